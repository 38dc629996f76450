use std::sync::Arc;

use showrunner::store::Store;

pub async fn a_working_store_answers_a_ping(store: Arc<dyn Store>) {
    store.ping().await.unwrap();
}
