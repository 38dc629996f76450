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
            readiness::a_working_store_answers_a_ping,
        }
    };
}

mod accounts;
mod follows;
mod helpers;
mod readiness;
mod sessions;
mod sqlite;
mod throttle;
mod tokens;
