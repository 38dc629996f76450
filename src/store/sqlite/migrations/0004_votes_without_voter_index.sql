-- Votes are the hot write path, and `votes_voter` was most of its cost. Voters are random
-- UUIDs, so every vote landed on a random page of that index; once the index outgrew the page
-- cache, every vote read a page back and rewrote it into the WAL. With 440,000 votes kept, ten
-- polls at once took 31,000 votes/s instead of 56,000 (`load-tests poll-storm`), and one
-- poll's acknowledgements went from p50 15 ms to 100 ms.
--
-- The index only served deleting an account, whose votes in other channels' polls are set to
-- NULL (ON DELETE SET NULL). That now scans the votes table once: ~110 ms with 550,000 votes.
DROP INDEX votes_voter;
