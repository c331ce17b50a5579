//! One provider conformance suite: the same scenarios on every platform's
//! implementation of `platform::Platform`, Lambda's against the emulator
//! and SCF's against its contract double. A platform passes when it keeps
//! each method's contract (docs in `src/platform/mod.rs`): a missing thing
//! reads as `None`/`false`, a guarded write sends nothing over someone
//! else's change, and what the platform lists is what it holds. A
//! release's publish is guarded too (each provider's own step under
//! `deploy`'s `Release`): a version that may hold someone else's upload is
//! refused on SCF, and on Lambda the publish carries the hash of what this
//! run uploaded.

use lambda_rollout::aws::Lambda;
use lambda_rollout::core::observed::{AliasNow, Split};
use lambda_rollout::error::Error;
use lambda_rollout::log::Log;
use lambda_rollout::platform::{AliasGuard, Platform};
use lambda_rollout::scf::Scf;
use lambda_rollout::scf::client::Client;
use serde_json::json;

use crate::common::scf_double::{self, ScfDouble};
use crate::common::*;

/// What the scenarios need done around a platform: the setup, and another
/// writer's change, through the platform's own API (not through the seam).
trait Rig {
    type P: Platform;
    fn platform(&self) -> &Self::P;
    /// A function `name` with published versions 1 to `versions`.
    async fn function_with_versions(&self, name: &str, versions: u32);
    /// Alias `alias` created on `version`.
    async fn alias_on(&self, function: &str, alias: &str, version: &str);
    /// Someone else points `alias` at `version`.
    async fn someone_points(&self, function: &str, alias: &str, version: &str);
    /// A release's upload and publish through the provider's own step,
    /// with someone else's upload landing in between: what the publish
    /// answered.
    async fn publish_over_another_upload(&self, function: &str) -> Result<String, Error>;
}

struct LambdaRig {
    aws: Emulator,
    lambda: Lambda,
}

impl LambdaRig {
    fn start() -> LambdaRig {
        let aws = Emulator::start();
        let lambda = Lambda::new(aws.lambda(), Log::default());
        LambdaRig { aws, lambda }
    }
}

impl Rig for LambdaRig {
    type P = Lambda;
    async fn publish_over_another_upload(&self, function: &str) -> Result<String, Error> {
        use lambda_rollout::aws::NewCode;
        use lambda_rollout::core::config::FunctionConfig;
        let (zip, ours, _) = release_zip("n = 'ours'");
        let revision = self
            .lambda
            .upload(function, NewCode::Zip(zip), &FunctionConfig::default(), None)
            .await?;
        self.aws
            .lambda()
            .update_function_code()
            .function_name(function)
            .zip_file(aws_sdk_lambda::primitives::Blob::new(zip_of("n = 'theirs'")))
            .send()
            .await
            .unwrap();
        self.lambda
            .publish(function, Some(&ours), "release", revision.as_deref())
            .await
    }
    fn platform(&self) -> &Lambda {
        &self.lambda
    }
    async fn function_with_versions(&self, name: &str, versions: u32) {
        create_function(&self.aws, name).await;
        let client = self.aws.lambda();
        for n in 1..=versions {
            client
                .update_function_code()
                .function_name(name)
                .zip_file(aws_sdk_lambda::primitives::Blob::new(zip_of(&format!("n = {n}"))))
                .send()
                .await
                .unwrap();
            client.publish_version().function_name(name).send().await.unwrap();
        }
    }
    async fn alias_on(&self, function: &str, alias: &str, version: &str) {
        self.aws
            .lambda()
            .create_alias()
            .function_name(function)
            .name(alias)
            .function_version(version)
            .send()
            .await
            .unwrap();
    }
    async fn someone_points(&self, function: &str, alias: &str, version: &str) {
        self.aws
            .lambda()
            .update_alias()
            .function_name(function)
            .name(alias)
            .function_version(version)
            .send()
            .await
            .unwrap();
    }
}

struct ScfRig {
    double: ScfDouble,
    scf: Scf,
}

impl ScfRig {
    fn start(function: &str) -> ScfRig {
        let double = ScfDouble::start(&[function]);
        let credentials = (
            scf_double::SECRET_ID.to_string(),
            scf_double::SECRET_KEY.to_string(),
            Some(scf_double::TOKEN.to_string()),
        );
        let client = Client::new(&double.endpoint, scf_double::REGION, credentials, Log::default()).unwrap();
        let scf = Scf::new(client, "default", Log::default());
        ScfRig { double, scf }
    }
}

impl Rig for ScfRig {
    type P = Scf;
    async fn publish_over_another_upload(&self, function: &str) -> Result<String, Error> {
        use lambda_rollout::core::plan;
        use lambda_rollout::scf::{observe, release};
        let (zip, _, hex) = release_zip("def main_handler(e, c):\n    return 2\n");
        let look = observe::look(&self.scf, function, "live", true).await?;
        let wanted = plan::Request {
            code_sha256: hex.clone(),
            config: None,
            weight: None,
        };
        let planned = plan::deploy(&look.observed, &wanted);
        let package = lambda_rollout::package::Package {
            zip,
            code_sha256: hex,
            files: 1,
            unzipped_bytes: 0,
        };
        // Another writer's upload lands as this run publishes.
        self.double.after(
            "PublishVersion",
            "UpdateFunctionCode",
            json!({"FunctionName": function, "ZipFile": "UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA=="}),
        );
        let published = self
            .scf
            .publish_release(release::Release {
                function,
                plan: &planned,
                config: None,
                package: &package,
                description: "release 2",
            })
            .await?;
        Ok(published.unwrap_or_default())
    }
    fn platform(&self) -> &Scf {
        &self.scf
    }
    async fn function_with_versions(&self, name: &str, versions: u32) {
        for _ in 0..versions {
            self.double.call("PublishVersion", json!({"FunctionName": name}));
        }
    }
    async fn alias_on(&self, function: &str, alias: &str, version: &str) {
        self.double.call(
            "CreateAlias",
            json!({"FunctionName": function, "Name": alias, "FunctionVersion": version}),
        );
    }
    async fn someone_points(&self, function: &str, alias: &str, version: &str) {
        self.double.call(
            "UpdateAlias",
            json!({"FunctionName": function, "Name": alias, "FunctionVersion": version}),
        );
    }
}

/// Versions are listed oldest first; a delete says whether it deleted, and
/// a version already gone is `false`, not an error; nothing holds a version
/// of a bare function.
async fn versions_list_and_delete(rig: &impl Rig) {
    rig.function_with_versions("orders", 3).await;
    let p = rig.platform();
    let listed = |all: Vec<lambda_rollout::core::prune::Published>| {
        all.into_iter().map(|v| v.version).collect::<Vec<_>>()
    };
    assert_eq!(listed(p.list_versions("orders").await.unwrap()), ["1", "2", "3"]);
    assert!(p.delete_version("orders", "1").await.unwrap());
    assert!(!p.delete_version("orders", "1").await.unwrap(), "already gone");
    assert_eq!(listed(p.list_versions("orders").await.unwrap()), ["2", "3"]);
    let id = p.function_id("orders").await.unwrap();
    assert!(id.contains("orders"), "{id}");
    assert_eq!(p.holds("orders", &id).await.unwrap(), Vec::new());
    let missing = p.function_id("nothing-here").await.unwrap_err();
    assert!(missing.to_string().contains("nothing-here"), "{missing}");
}

/// A missing alias reads as `None`; an alias reads and lists as it is; a
/// write planned from what was read lands, weight and description included.
async fn aliases_read_list_and_write(rig: &impl Rig) {
    rig.function_with_versions("orders", 3).await;
    let p = rig.platform();
    assert_eq!(p.alias_now("orders", "live").await.unwrap(), None);
    rig.alias_on("orders", "live", "2").await;
    let found = p.alias_now("orders", "live").await.unwrap().unwrap();
    assert_eq!((found.primary.as_str(), &found.canary), ("2", &None));
    let to = AliasNow {
        primary: "2".into(),
        canary: Some(("3".into(), Split::Weight(0.1))),
        revision_id: None,
        description: "canary 3".into(),
    };
    p.update_alias("orders", "live", &to, &found).await.unwrap();
    let now = p.alias_now("orders", "live").await.unwrap().unwrap();
    assert!(now.same_as(&to), "{now:?}");
    let listed = p.list_aliases("orders").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (
            listed[0].name.as_str(),
            listed[0].primary.as_str(),
            listed[0].canary.as_deref()
        ),
        ("live", "2", Some("3"))
    );
}

/// One look reads the function and its alias: the core's view (the versions
/// the alias serves, each with its code hash) and the alias as the platform
/// holds it; a function that does not exist is named; a bare function has
/// no entry point.
async fn look_at_a_function_and_its_alias(rig: &impl Rig) {
    rig.function_with_versions("orders", 2).await;
    rig.alias_on("orders", "live", "2").await;
    let p = rig.platform();
    let look = p.look("orders", "live").await.unwrap();
    let state = look.observed.alias.as_ref().expect("the alias is observed");
    assert_eq!(state.primary.version, "2");
    assert_eq!(state.canary, None);
    assert_eq!(look.alias.as_ref().map(|a| a.primary.as_str()), Some("2"));
    assert!(!look.observed.function_missing);
    let details = p.version("orders", "2").await.unwrap();
    assert_eq!(details.version, "2");
    let unaliased = p.look("orders", "staging").await.unwrap();
    assert!(unaliased.observed.alias.is_none() && unaliased.alias.is_none());
    let missing = p.look("nothing-here", "live").await.unwrap_err();
    assert!(missing.to_string().contains("nothing-here"), "{missing}");
    let named = p.named_version("orders", "9").await.unwrap_err();
    assert_eq!(
        named.exit_code(),
        2,
        "a version the user named is bad input: {named}"
    );
    let points = p
        .entry_points("orders", &look.observed.function_arn, "live")
        .await
        .unwrap();
    assert!(points.found.is_empty(), "{:?}", points.found);
}

/// A guarded write planned from a read that someone else's change has made
/// stale. Returns what the write answered, the read it was planned from and
/// what the alias serves after.
async fn write_over_another_writer(rig: &impl Rig) -> (Result<(), Error>, AliasNow, AliasNow) {
    rig.function_with_versions("orders", 3).await;
    rig.alias_on("orders", "live", "1").await;
    let p = rig.platform();
    let found = p.alias_now("orders", "live").await.unwrap().unwrap();
    rig.someone_points("orders", "live", "2").await;
    let to = AliasNow {
        primary: "3".into(),
        ..found.clone()
    };
    let written = p.update_alias("orders", "live", &to, &found).await;
    (
        written,
        found,
        p.alias_now("orders", "live").await.unwrap().unwrap(),
    )
}

/// A zip, and its SHA-256 in base64 (Lambda's `CodeSha256`) and in hex
/// (what SCF's version descriptions record).
fn release_zip(body: &str) -> (Vec<u8>, String, String) {
    use base64::Engine;
    use sha2::Digest;
    let zip = zip_of(body);
    let digest = sha2::Sha256::digest(&zip);
    let base64 = base64::engine::general_purpose::STANDARD.encode(digest);
    (zip, base64, hex::encode(digest))
}

/// A publish with a stale guard: someone else's upload lands between this
/// run's upload and its publish. The publish answers an error — Lambda's a
/// conflict (the published version's `CodeSha256` is not the one this run
/// uploaded; AWS itself refuses the guarded publish, which the emulator
/// does not: ARCHITECTURE.md), SCF's someone else's change (read back:
/// SCF has no revision) — so no traffic moves to a version that may hold
/// the other writer's code.
async fn a_publish_over_another_upload_is_refused(rig: &impl Rig) {
    rig.function_with_versions("orders", 1).await;
    rig.alias_on("orders", "live", "1").await;
    let published = rig.publish_over_another_upload("orders").await;
    match &published {
        Err(Error::Conflict(why)) => assert!(why.contains("changed concurrently"), "{why}"),
        Err(Error::Interfered(why)) => assert!(
            why.contains("changed while this run uploaded and published it"),
            "{why}"
        ),
        other => panic!("the publish over another upload answered {other:?}"),
    }
    let p = rig.platform();
    let alias = p.alias_now("orders", "live").await.unwrap().unwrap();
    assert_eq!((alias.primary.as_str(), &alias.canary), ("1", &None));
}

/// A scenario as two tests: Lambda on the emulator, SCF on its double.
macro_rules! on_both_platforms {
    ($($scenario:ident),* $(,)?) => {
        mod lambda {
            $(
                #[tokio::test(flavor = "current_thread")]
                async fn $scenario() {
                    super::$scenario(&super::LambdaRig::start()).await;
                }
            )*
        }
        mod scf {
            $(
                #[tokio::test(flavor = "current_thread")]
                async fn $scenario() {
                    super::$scenario(&super::ScfRig::start("orders")).await;
                }
            )*
        }
    };
}

on_both_platforms!(
    look_at_a_function_and_its_alias,
    versions_list_and_delete,
    aliases_read_list_and_write,
    a_publish_over_another_upload_is_refused,
);

/// SCF guards by reading again: the stale write is refused before it is
/// sent, and the other writer's version stays.
#[tokio::test(flavor = "current_thread")]
async fn scf_sends_nothing_over_another_writers_change() {
    let rig = ScfRig::start("orders");
    assert_eq!(rig.scf.capabilities().alias_guard, AliasGuard::ReRead);
    let (written, _, after) = write_over_another_writer(&rig).await;
    assert!(matches!(written, Err(Error::Interfered(_))), "{written:?}");
    assert_eq!(after.primary, "2");
    assert_eq!(
        rig.double
            .requests()
            .iter()
            .filter(|r| *r == "UpdateAlias")
            .count(),
        0,
        "the guarded write sent no UpdateAlias (the other writer's is not an API request of ours)"
    );
}

/// Lambda guards by revision: the write carries the `RevisionId` it was
/// planned from, which AWS refuses once stale (`PreconditionFailedException`,
/// a conflict: `sdk_mocks` shows that answer's handling). The emulator does
/// not enforce `RevisionId` (ARCHITECTURE.md), so here the suite checks what
/// it can: the stale revision is what was sent.
#[tokio::test(flavor = "current_thread")]
async fn lambda_sends_the_revision_it_planned_from() {
    let rig = LambdaRig::start();
    assert_eq!(rig.lambda.capabilities().alias_guard, AliasGuard::Revision);
    rig.aws.start_recording();
    let (written, found, _) = write_over_another_writer(&rig).await;
    written.unwrap();
    let updates: Vec<String> = rig
        .aws
        .recorded_with_bodies()
        .into_iter()
        .filter(|(method, path, _)| method == "PUT" && path.contains("/aliases/live"))
        .map(|(_, _, body)| body)
        .collect();
    assert_eq!(updates.len(), 2, "the other writer's and ours");
    let ours: serde_json::Value = serde_json::from_str(&updates[1]).unwrap();
    let theirs_before: serde_json::Value = serde_json::from_str(&updates[0]).unwrap();
    assert!(theirs_before.get("RevisionId").is_none());
    assert_eq!(
        ours["RevisionId"].as_str(),
        found.revision_id.as_deref(),
        "{ours}"
    );
    assert!(found.revision_id.is_some());
}
