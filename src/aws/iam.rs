//! Keeps the IAM policy of `docs/deploy-aws.md` and the AWS calls of this module in step: the
//! test reads every adapter's source, finds each SDK operation it calls, turns it into the IAM
//! action it needs, and checks the policy allows exactly those — no call without its action,
//! no action without a call.
//!
//! What counts as a call: `client.<operation>(` (however the chain is broken over lines), the
//! waiter `wait_until_table_exists` (DescribeTable), and the items of a DynamoDB transaction
//! (`TransactWriteItem::builder().put(..)` needs PutItem, and so on: TransactWriteItems has no
//! action of its own). A create call that passes tags also needs the service's TagResource.

use std::{
    collections::BTreeSet,
    path::{Path, PathBuf},
};

/// The IAM service prefix of a source file of `src/aws`.
fn service_of(path: &Path) -> Option<&'static str> {
    let text = path.to_string_lossy();
    [
        ("/dynamodb", "dynamodb"),
        ("/cloudwatch", "cloudwatch"),
        ("/ivschat", "ivschat"),
        ("/ivs", "ivs"),
        // IVS Real-Time shares the `ivs:` prefix.
        ("/realtime", "ivs"),
        ("/s3", "s3"),
    ]
    .into_iter()
    .find(|(part, _)| text.contains(part))
    .map(|(_, service)| service)
}

/// Method calls on a client that are not operations.
const NOT_OPERATIONS: &[&str] = &["config", "clone", "get_or_init"];

/// Where the IAM action is not the operation's name.
fn action(service: &str, operation: &str) -> Vec<String> {
    let pascal: String = operation
        .split('_')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    let name = match (service, pascal.as_str()) {
        ("s3", "ListObjectsV2" | "HeadBucket") => "ListBucket".to_owned(),
        ("s3", "DeleteObjects") => "DeleteObject".to_owned(),
        ("dynamodb", "WaitUntilTableExists") => "DescribeTable".to_owned(),
        ("dynamodb", "TransactWriteItems") => return Vec::new(),
        _ => pascal,
    };
    vec![format!("{service}:{name}")]
}

/// Production source files under `src/aws` (unit-test files and this one left out).
fn sources() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("src/aws is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("tests.rs")
                && !path.ends_with("iam.rs")
            {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src/aws"),
        &mut files,
    );
    files.sort();
    files
}

/// The file without its inline test module.
fn production_part(text: &str) -> &str {
    text.find("\n#[cfg(test)]\nmod tests {")
        .map_or(text, |end| &text[..end])
}

/// Every IAM action the code needs, each with one place that needs it.
fn actions_in_code() -> BTreeSet<String> {
    let mut needed = BTreeSet::new();
    for path in sources() {
        let Some(service) = service_of(&path) else {
            continue;
        };
        let text = std::fs::read_to_string(&path).expect("source is readable");
        let code = production_part(&text);
        let mut rest = code;
        while let Some(at) = rest.find("client") {
            rest = &rest[at + "client".len()..];
            let after = rest.trim_start_matches("()").trim_start();
            let Some(call) = after.strip_prefix('.') else {
                continue;
            };
            let call = call.trim_start();
            let name: String = call
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if name.is_empty()
                || !call[name.len()..].starts_with('(')
                || NOT_OPERATIONS.contains(&name.as_str())
            {
                continue;
            }
            needed.extend(action(service, &name));
            // Tags passed at creation need the service's TagResource too.
            let chain = call.split(".send()").next().unwrap_or_default();
            if name.starts_with("create_")
                && (chain.contains(".tags(") || chain.contains(".set_tags("))
            {
                needed.insert(format!("{service}:TagResource"));
            }
        }
        for (item, name) in [
            ("put", "PutItem"),
            ("update", "UpdateItem"),
            ("delete", "DeleteItem"),
            ("condition_check", "ConditionCheckItem"),
        ] {
            if code.contains(&format!("TransactWriteItem::builder().{item}(")) {
                needed.insert(format!("dynamodb:{name}"));
            }
        }
    }
    needed
}

/// Every action the policy in the deployment guide allows.
fn actions_in_policy() -> BTreeSet<String> {
    let doc = include_str!("../../docs/deploy-aws.md");
    let section = doc
        .split_once("## IAM policy")
        .expect("docs/deploy-aws.md has an \"## IAM policy\" section")
        .1;
    let json = section
        .split_once("```json\n")
        .and_then(|(_, rest)| rest.split_once("\n```"))
        .expect("the IAM policy section has a ```json block")
        .0;
    let policy: serde_json::Value = serde_json::from_str(json).expect("the policy is valid JSON");
    let mut actions = BTreeSet::new();
    for statement in policy["Statement"].as_array().expect("a Statement list") {
        assert_eq!(statement["Effect"], "Allow", "{statement}");
        match &statement["Action"] {
            serde_json::Value::String(one) => {
                actions.insert(one.clone());
            }
            serde_json::Value::Array(many) => actions.extend(
                many.iter()
                    .map(|a| a.as_str().expect("an action").to_owned()),
            ),
            other => panic!("unexpected Action {other}"),
        }
    }
    actions
}

#[test]
fn the_policy_allows_exactly_the_calls_the_code_makes() {
    let code = actions_in_code();
    let policy = actions_in_policy();

    let missing: Vec<_> = code.difference(&policy).collect();
    let unused: Vec<_> = policy.difference(&code).collect();

    assert!(
        missing.is_empty() && unused.is_empty(),
        "docs/deploy-aws.md's policy is out of step with src/aws.\n\
         Called but not allowed: {missing:?}\nAllowed but never called: {unused:?}"
    );
    // The reading itself works: a few calls every deployment makes are found.
    for known in [
        "ivs:PutMetadata",
        "dynamodb:Query",
        "s3:PutObject",
        "ivs:CreateStage",
    ] {
        assert!(
            code.contains(known),
            "{known} not found in src/aws: {code:?}"
        );
    }
}

#[test]
fn operations_become_their_iam_actions() {
    assert_eq!(action("ivs", "put_metadata"), ["ivs:PutMetadata"]);
    assert_eq!(action("s3", "list_objects_v2"), ["s3:ListBucket"]);
    assert_eq!(action("s3", "delete_objects"), ["s3:DeleteObject"]);
    assert!(action("dynamodb", "transact_write_items").is_empty());
    assert_eq!(
        production_part("a\n#[cfg(test)]\nmod tests {\n client.put_item()\n}"),
        "a"
    );
}
