//! The table's definition: created by `showrunner aws init` (and by the tests, a table per
//! test), checked at startup.

use std::time::Duration;

use anyhow::{Context, bail};
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::DynamoStore;
use super::keys::{LIVE_INDEX, OPEN_POLLS_INDEX, STAGED_INDEX};

/// How long `aws init` waits for a new table to become active.
const ACTIVE_TIMEOUT: Duration = Duration::from_secs(300);

/// The attribute DynamoDB's TTL reads (epoch seconds).
const TTL_ATTRIBUTE: &str = "ttl";

/// The secondary indexes: name, partition key, sort key (a number), and whether the index keeps
/// whole items (the directory reads accounts straight from it) or only keys (open polls are read
/// again from the table, for their tallies).
const INDEXES: &[(&str, &str, &str, ProjectionType)] = &[
    (LIVE_INDEX, "live_pk", "live_since", ProjectionType::All),
    (STAGED_INDEX, "stage_pk", "stage_since", ProjectionType::All),
    (
        OPEN_POLLS_INDEX,
        "open_pk",
        "started_at",
        ProjectionType::KeysOnly,
    ),
];

fn key_element(name: &str, key_type: KeyType) -> anyhow::Result<KeySchemaElement> {
    Ok(KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(key_type)
        .build()?)
}

fn attribute(name: &str, kind: ScalarAttributeType) -> anyhow::Result<AttributeDefinition> {
    Ok(AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(kind)
        .build()?)
}

impl DynamoStore {
    /// Creates the table with its indexes unless it exists, waits until it is active, and turns
    /// on TTL. Idempotent. Returns a line saying what there is.
    pub async fn create_table(&self) -> anyhow::Result<String> {
        let exists = self.describe().await?.is_some();
        if !exists {
            self.create().await?;
        }
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(ACTIVE_TIMEOUT)
            .await
            .map_err(|e| anyhow::anyhow!("{}", DisplayErrorContext(e)))
            .with_context(|| format!("waiting for DynamoDB table `{}` to be active", self.table))?;
        self.check_table().await?;
        self.enable_ttl().await?;
        Ok(format!(
            "DynamoDB table `{}`: {}, indexes {}, TTL on `{TTL_ATTRIBUTE}`",
            self.table,
            if exists { "already there" } else { "created" },
            INDEXES
                .iter()
                .map(|(name, ..)| *name)
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    /// Fails, saying what to do, unless the table exists with every index this store queries.
    pub async fn check_table(&self) -> anyhow::Result<()> {
        let Some(table) = self.describe().await? else {
            bail!(
                "DynamoDB table `{}` does not exist; create it with `showrunner aws init`",
                self.table
            );
        };
        let present: Vec<&str> = table
            .global_secondary_indexes()
            .iter()
            .filter_map(|index| index.index_name())
            .collect();
        let missing: Vec<&str> = INDEXES
            .iter()
            .map(|(name, ..)| *name)
            .filter(|name| !present.contains(name))
            .collect();
        if !missing.is_empty() {
            bail!(
                "DynamoDB table `{}` lacks the indexes {}; it was not made by `showrunner aws \
                 init` (use another aws.dynamodb_table)",
                self.table,
                missing.join(", ")
            );
        }
        Ok(())
    }

    async fn describe(&self) -> anyhow::Result<Option<aws_sdk_dynamodb::types::TableDescription>> {
        match self
            .client
            .describe_table()
            .table_name(&self.table)
            .send()
            .await
        {
            Ok(output) => Ok(output.table),
            Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
            Err(e) => Err(anyhow::anyhow!("{}", DisplayErrorContext(e)))
                .with_context(|| format!("describing DynamoDB table `{}`", self.table)),
        }
    }

    async fn create(&self) -> anyhow::Result<()> {
        let mut attributes = vec![
            attribute("pk", ScalarAttributeType::S)?,
            attribute("sk", ScalarAttributeType::S)?,
        ];
        let mut indexes = Vec::new();
        for (name, partition, sort, projection) in INDEXES {
            attributes.push(attribute(partition, ScalarAttributeType::S)?);
            attributes.push(attribute(sort, ScalarAttributeType::N)?);
            indexes.push(
                GlobalSecondaryIndex::builder()
                    .index_name(*name)
                    .key_schema(key_element(partition, KeyType::Hash)?)
                    .key_schema(key_element(sort, KeyType::Range)?)
                    .projection(
                        Projection::builder()
                            .projection_type(projection.clone())
                            .build(),
                    )
                    .build()?,
            );
        }
        let created = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key_element("pk", KeyType::Hash)?)
            .key_schema(key_element("sk", KeyType::Range)?)
            .set_attribute_definitions(Some(attributes))
            .set_global_secondary_indexes(Some(indexes))
            .send()
            .await;
        match created {
            Ok(_) => Ok(()),
            // Created meanwhile by another `aws init`: the wait that follows covers it.
            Err(e) if e.code() == Some("ResourceInUseException") => Ok(()),
            Err(e) => Err(anyhow::anyhow!("{}", DisplayErrorContext(e)))
                .with_context(|| format!("creating DynamoDB table `{}`", self.table)),
        }
    }

    /// Turns TTL on unless it is (DynamoDB refuses to enable it twice).
    async fn enable_ttl(&self) -> anyhow::Result<()> {
        let current = self
            .client
            .describe_time_to_live()
            .table_name(&self.table)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("{}", DisplayErrorContext(e)))
            .context("reading the table's TTL setting")?;
        let description = current.time_to_live_description;
        let status = description
            .as_ref()
            .and_then(|d| d.time_to_live_status.clone());
        let attribute = description.as_ref().and_then(|d| d.attribute_name());
        match status {
            Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling) => {
                if attribute != Some(TTL_ATTRIBUTE) {
                    bail!(
                        "DynamoDB table `{}` has TTL on `{}`, not `{TTL_ATTRIBUTE}`",
                        self.table,
                        attribute.unwrap_or("?")
                    );
                }
                Ok(())
            }
            _ => {
                self.client
                    .update_time_to_live()
                    .table_name(&self.table)
                    .time_to_live_specification(
                        TimeToLiveSpecification::builder()
                            .enabled(true)
                            .attribute_name(TTL_ATTRIBUTE)
                            .build()?,
                    )
                    .send()
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", DisplayErrorContext(e)))
                    .context("turning on TTL")?;
                Ok(())
            }
        }
    }
}
