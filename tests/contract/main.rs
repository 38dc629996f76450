//! The store contract: what every `Store` implementation must do, written once and run against
//! each backend.
//!
//! Each check is a `pub async fn(Arc<dyn Store>)` in the module of the port it exercises.
//! [`store_contract!`] turns the whole list into one `#[tokio::test]` per check for a backend,
//! given an async constructor that returns a fresh, empty store and a guard that keeps its
//! resources (a temporary directory, a table) alive until the test ends.

/// One `#[tokio::test]` per listed check, named after it, each on a fresh store from `$open`.
macro_rules! contract_tests {
    ($open:path => $($module:ident :: $check:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $check() {
                let (store, _resources) = $open().await;
                crate::$module::$check(store).await;
            }
        )+
    };
}

/// The whole contract, for the backend that `$open` builds. Add every new check here, so that
/// every backend runs it.
macro_rules! store_contract {
    ($open:path) => {
        contract_tests! { $open =>
            accounts::a_created_account_reads_back_the_same_by_id_username_key_and_email,
            accounts::username_uniqueness_ignores_case,
            accounts::a_taken_email_is_a_conflict_and_creates_nothing,
            accounts::a_clash_on_both_username_and_email_names_the_username,
            accounts::renaming_to_a_name_taken_in_any_case_is_a_conflict,
            accounts::renaming_to_another_spelling_of_ones_own_name_is_allowed,
            accounts::a_renamed_account_is_found_by_its_new_name_and_its_old_name_is_free,
            accounts::a_profile_change_writes_only_the_fields_it_names,
            accounts::each_setter_changes_only_its_own_field,
            accounts::set_live_marks_a_channel_live_and_offline_again,
            accounts::writes_to_a_missing_account_are_not_found,
            accounts::deleting_an_account_removes_its_follows_sessions_and_tokens,
            accounts::deleting_an_account_twice_is_not_found,
            accounts::live_channels_lists_the_most_recently_started_first_up_to_the_limit,
            accounts::set_stage_marks_a_channel_staged_and_unstaged_again,
            accounts::live_channels_lists_live_channels_first_then_staged_ones,
            accounts::each_part_of_the_directory_is_limited_on_its_own,
            accounts::deleting_an_account_removes_its_restrictions_and_moderator_roles_both_ways,
            accounts::deleting_a_moderator_keeps_their_bans_in_force_in_the_channels_name,
            accounts::deleting_an_account_removes_its_channels_chat_history_and_settings,
            accounts::deleting_an_account_removes_its_polls_and_no_vote_names_it,
            accounts::deleting_an_account_removes_its_presets_and_its_channels_snapshots,
            follows::following_twice_keeps_the_first_follow,
            follows::unfollowing_is_idempotent,
            follows::following_a_missing_account_is_not_found,
            follows::following_lists_live_channels_first_then_the_most_recently_followed,
            follows::the_following_list_is_cut_at_the_limit_after_ordering,
            sessions::rotating_the_current_refresh_token_extends_the_session,
            sessions::rotating_a_spent_refresh_token_revokes_the_session,
            sessions::an_unknown_refresh_token_is_invalid,
            sessions::a_session_expires_at_its_expiry_instant,
            sessions::two_concurrent_rotations_of_one_token_rotate_it_once,
            sessions::the_token_last_spent_presented_within_the_grace_rotates_again_and_only_the_newest_works,
            sessions::the_grace_forgives_only_the_latest_rotations_token_and_only_within_its_time,
            sessions::a_session_is_alive_only_for_its_own_account,
            sessions::revoking_a_session_is_idempotent_and_invalidates_its_token,
            sessions::revoking_all_sessions_of_an_account_can_keep_one,
            tokens::a_mailed_token_can_be_taken_once,
            tokens::two_concurrent_takes_of_one_token_succeed_once,
            tokens::an_expired_token_is_not_taken,
            tokens::a_token_is_not_taken_for_another_purpose,
            tokens::dropping_tokens_removes_only_that_purpose_of_that_account,
            throttle::hits_are_counted_per_key_and_per_window,
            throttle::reading_hits_does_not_count_one,
            moderation::a_timeout_is_in_force_until_the_instant_it_ends,
            moderation::a_ban_without_an_end_is_in_force_until_lifted,
            moderation::restricting_again_replaces_the_restriction_of_that_kind,
            moderation::a_ban_and_a_timeout_of_one_user_are_kept_apart,
            moderation::lifting_returns_whether_there_was_a_restriction_to_lift,
            moderation::a_channels_restrictions_in_force_are_listed_newest_first,
            moderation::adding_a_moderator_is_idempotent,
            moderation::removing_a_moderator_is_idempotent,
            moderation::moderators_are_listed_per_channel,
            moderation::chat_settings_are_the_defaults_until_saved,
            moderation::saved_chat_settings_read_back_and_are_replaced_whole,
            chat::recent_chat_is_the_newest_messages_oldest_first,
            chat::appending_keeps_only_the_newest_keep_messages_of_the_channel,
            chat::a_retried_append_overwrites_the_message_at_that_offset,
            chat::a_deleted_message_is_never_replayed,
            chat::deleting_a_message_returns_whether_it_existed,
            chat::the_last_offset_survives_deleting_and_trimming,
            polls::a_created_poll_reads_back_with_no_votes,
            polls::the_tally_counts_the_stored_votes_per_option,
            polls::a_second_vote_in_the_same_batch_is_not_counted,
            polls::a_vote_after_an_earlier_batch_is_not_counted,
            polls::two_concurrent_votes_by_one_voter_count_once,
            polls::votes_for_a_missing_poll_are_not_found,
            polls::a_vote_for_an_option_the_poll_lacks_rejects_the_whole_batch,
            polls::closing_a_poll_twice_keeps_the_first_close_time,
            polls::open_polls_are_those_not_closed_with_their_tallies,
            polls::a_channels_polls_are_listed_newest_first_up_to_the_limit,
            presets::a_put_preset_reads_back_as_stored,
            presets::putting_a_preset_of_a_taken_name_replaces_it_and_keeps_its_id,
            presets::preset_names_are_unique_per_owner_and_compared_exactly,
            presets::presets_are_listed_by_name,
            presets::deleting_a_preset_needs_its_owner,
            snapshots::a_snapshot_reads_back_as_it_was_put,
            snapshots::putting_a_snapshot_again_replaces_it,
            snapshots::deleting_a_snapshot_is_idempotent,
            readiness::a_working_store_answers_a_ping,
            streams::an_event_creates_its_session_and_a_redelivery_changes_nothing,
            streams::a_session_is_live_from_its_start_until_its_end_in_event_time,
            streams::an_end_delivered_before_its_start_leaves_the_session_over,
            streams::a_later_session_of_the_channel_closes_the_one_before_it,
            streams::an_event_without_a_stream_joins_the_session_started_by_its_time,
            streams::health_and_error_flags_follow_the_sessions_events,
            streams::sessions_are_listed_newest_first_in_pages_after_a_position,
            streams::a_session_is_found_only_under_its_own_channel,
            streams::the_channel_of_an_arn_is_found_by_exact_match,
            streams::an_event_of_a_missing_channel_is_not_found,
            streams::ingest_configuration_and_samples_read_back_and_need_their_session,
            streams::cached_metrics_are_found_under_their_key_only_and_replaced_whole,
            streams::deleting_an_account_removes_its_stream_sessions_events_and_metrics,
        }
    };
}

mod accounts;
mod chat;
mod dynamodb;
mod follows;
mod helpers;
mod moderation;
mod polls;
mod presets;
mod readiness;
mod sessions;
mod snapshots;
mod sqlite;
mod streams;
mod throttle;
mod tokens;
