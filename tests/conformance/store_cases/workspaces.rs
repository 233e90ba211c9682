//! `Workspaces`.

use anyhow::Result;
use switchyard_core::StoreError;
use switchyard_core::page::PageRequest;
use switchyard_core::ports::Store;

use super::super::store_fixtures::*;

pub async fn workspace_names_are_unique_per_org(store: &dyn Store) -> Result<()> {
    let a = organization();
    let b = organization();
    store
        .create_workspace(&workspace(a.id, "production"))
        .await?;

    let taken = store.create_workspace(&workspace(a.id, "production")).await;
    assert!(
        matches!(taken, Err(StoreError::Conflict(_))),
        "second workspace of the same name in one org: {taken:?}"
    );
    store.create_workspace(&workspace(a.id, "staging")).await?;
    store
        .create_workspace(&workspace(b.id, "production"))
        .await?;

    let names: Vec<String> = store
        .list_workspaces(a.id, PageRequest::default())
        .await?
        .records
        .into_iter()
        .map(|w| w.name)
        .collect();
    assert_eq!(names, ["staging", "production"]);
    assert_eq!(
        store
            .list_workspaces(b.id, PageRequest::default())
            .await?
            .records
            .len(),
        1
    );
    Ok(())
}
