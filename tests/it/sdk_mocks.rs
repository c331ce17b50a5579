//! AWS behaviours the local emulator does not model (ARCHITECTURE.md lists them),
//! covered at the SDK level with aws-smithy-mocks: stale `RevisionId`
//! (`PreconditionFailedException`), publish idempotency, and the `RevisionId`
//! guards sent on every write. moto 5.2.5 has no RevisionId on functions and
//! accepts a stale one everywhere, so these paths cannot be shown against it.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::error::ErrorMetadata;
use aws_sdk_lambda::operation::get_alias::{GetAliasError, GetAliasOutput};
use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::operation::publish_version::PublishVersionOutput;
use aws_sdk_lambda::operation::update_alias::{UpdateAliasError, UpdateAliasOutput};
use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeOutput;
use aws_sdk_lambda::types::FunctionConfiguration;
use aws_sdk_lambda::types::error::{PreconditionFailedException, ResourceNotFoundException};
use aws_sdk_lambda::types::{AliasRoutingConfiguration, LastUpdateStatus, State};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use lambda_rollout::aws::{Clients, Lambda};
use lambda_rollout::cli::settings::DeployRequest;
use lambda_rollout::commands::deploy::{Code, deploy};
use lambda_rollout::core::values::Weight;
use lambda_rollout::error::Error;
use lambda_rollout::log::Log;
use lambda_rollout::package::{Package, load_zip};
use lambda_rollout::report::AliasReport;

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:orders";
const STABLE_HASH: &str = "stable-hash=";

fn package() -> Code {
    Code::Zip(zip_package())
}

fn zip_package() -> Package {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("code.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    writer
        .start_file("index.py", zip::write::SimpleFileOptions::default())
        .unwrap();
    std::io::Write::write_all(&mut writer, b"def handler(e, c): return 2").unwrap();
    writer.finish().unwrap();
    load_zip(&path).unwrap()
}

fn request() -> DeployRequest {
    DeployRequest {
        function: "orders".into(),
        alias: "live".into(),
        weight: Weight::new(0.1),
        description: "test".into(),
        dry_run: false,
        rollout: None,
        handoff: None,
        s3: None,
        keep_versions: None,
        config: None,
        allow_latest_triggers: false,
        function_url: None,
        header_rule: None,
    }
}

/// The run's clients: Lambda through the mocked `client`; the others are
/// built offline and never called by these tests.
fn clients(client: Client) -> Clients {
    let offline = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    Clients {
        lambda: Lambda::new(client, Log::default()),
        ..Clients::new(&offline, Log::default())
    }
}

/// `deploy` of `request()` with `code`, through the mocked `client`.
async fn deploy_with(client: Client, code: &Code) -> Result<AliasReport, Error> {
    deploy(&clients(client), &request(), code, Log::default()).await
}

/// `GetFunction`'s answer for one version (or `$LATEST`).
fn configuration(version: &str, hash: &str) -> GetFunctionOutput {
    let config = FunctionConfiguration::builder()
        .function_arn(if version == "$LATEST" {
            ARN.to_string()
        } else {
            format!("{ARN}:{version}")
        })
        .version(version)
        .code_sha256(hash)
        .revision_id(format!("rev-{version}"))
        .last_update_status(LastUpdateStatus::Successful)
        .state(State::Active)
        .build();
    GetFunctionOutput::builder().configuration(config).build()
}

fn alias_on(version: &str, revision: &str) -> GetAliasOutput {
    GetAliasOutput::builder()
        .alias_arn(format!("{ARN}:live"))
        .function_version(version)
        .revision_id(revision)
        .build()
}

fn precondition_failed() -> UpdateAliasError {
    UpdateAliasError::PreconditionFailedException(
        PreconditionFailedException::builder()
            .message("The Revision Id provided does not match the latest Revision Id.")
            .meta(
                ErrorMetadata::builder()
                    .code("PreconditionFailedException")
                    .build(),
            )
            .build(),
    )
}

/// `GetFunction` with the alias as qualifier answers with the
/// primary version's configuration (version 1 here), as AWS does.
fn alias_read() -> aws_smithy_mocks::Rule {
    mock!(Client::get_function)
        .match_requests(|r| r.qualifier() == Some("live"))
        .then_output(|| configuration("1", STABLE_HASH))
}

/// `$LATEST` and version 1 hold the stable code; the alias serves version 1.
/// An alias without provisioned concurrency (`GetProvisionedConcurrencyConfig`
/// answers that none is configured).
fn no_provisioned() -> aws_smithy_mocks::Rule {
    use aws_sdk_lambda::operation::get_provisioned_concurrency_config::GetProvisionedConcurrencyConfigError;
    use aws_sdk_lambda::types::error::ProvisionedConcurrencyConfigNotFoundException;
    mock!(Client::get_provisioned_concurrency_config).then_error(|| {
        let code = ErrorMetadata::builder().code("ProvisionedConcurrencyConfigNotFoundException");
        let none = ProvisionedConcurrencyConfigNotFoundException::builder()
            .message("No Provisioned Concurrency Config found");
        GetProvisionedConcurrencyConfigError::ProvisionedConcurrencyConfigNotFoundException(
            none.meta(code.build()).build(),
        )
    })
}

/// Nothing invokes the function but through its aliases: no event source
/// mapping, no function URL, no resource policy (what a canary deploy reads
/// before it uploads).
fn no_entry_points() -> Vec<aws_smithy_mocks::Rule> {
    use aws_sdk_lambda::operation::get_function_url_config::GetFunctionUrlConfigError;
    use aws_sdk_lambda::operation::get_policy::GetPolicyError;
    use aws_sdk_lambda::operation::list_event_source_mappings::ListEventSourceMappingsOutput;
    let missing = || {
        ResourceNotFoundException::builder()
            .message("not found")
            .meta(ErrorMetadata::builder().code("ResourceNotFoundException").build())
            .build()
    };
    vec![
        mock!(Client::list_event_source_mappings)
            .then_output(|| ListEventSourceMappingsOutput::builder().build()),
        mock!(Client::get_function_url_config)
            .then_error(move || GetFunctionUrlConfigError::ResourceNotFoundException(missing())),
        mock!(Client::get_policy).then_error(move || GetPolicyError::ResourceNotFoundException(missing())),
    ]
}

fn reads(latest_hash: &'static str) -> Vec<aws_smithy_mocks::Rule> {
    vec![
        alias_read(),
        no_provisioned(),
        mock!(Client::get_function)
            .match_requests(|r| r.qualifier().is_none())
            .then_output(move || configuration("$LATEST", latest_hash)),
        mock!(Client::get_function)
            .match_requests(|r| r.qualifier() == Some("1"))
            .then_output(|| configuration("1", STABLE_HASH)),
    ]
}

#[tokio::test]
async fn a_stale_alias_revision_is_observed_again_and_planned_once_more() {
    let code = package();
    let new_hash: &'static str = Box::leak(code.identity().to_string().into_boxed_str());
    // First observation: alias at rev-a. The write is refused (another job moved
    // it); the second observation sees rev-b, and the write guarded by rev-b lands.
    let get_alias = mock!(Client::get_alias)
        .sequence()
        .output(|| alias_on("1", "rev-a"))
        .output(|| alias_on("1", "rev-b"))
        .build();
    let latest = mock!(Client::get_function)
        .match_requests(|r| r.qualifier().is_none())
        .sequence()
        .output(|| configuration("$LATEST", STABLE_HASH))
        .output(move || configuration("$LATEST", new_hash))
        .build();
    let version_1 = mock!(Client::get_function)
        .match_requests(|r| r.qualifier() == Some("1"))
        .then_output(|| configuration("1", STABLE_HASH));
    let upload = mock!(Client::update_function_code)
        .match_requests(|r| r.revision_id() == Some("rev-$LATEST"))
        .then_output(move || {
            UpdateFunctionCodeOutput::builder()
                .code_sha256(new_hash)
                .revision_id("rev-uploaded")
                .last_update_status(LastUpdateStatus::Successful)
                .build()
        });
    let publish = mock!(Client::publish_version)
        .match_requests(move |r| r.code_sha256() == Some(new_hash) && r.revision_id().is_some())
        .then_output(move || {
            PublishVersionOutput::builder()
                .version("2")
                .code_sha256(new_hash)
                .state(State::Active)
                .build()
        });
    let stale_write = mock!(Client::update_alias)
        .match_requests(|r| r.revision_id() == Some("rev-a"))
        .then_error(precondition_failed);
    let fresh_write = mock!(Client::update_alias)
        .match_requests(|r| {
            r.revision_id() == Some("rev-b")
                && r.function_version() == Some("1")
                && r.routing_config()
                    .and_then(|c| c.additional_version_weights())
                    .and_then(|w| w.get("2"))
                    == Some(&0.1)
        })
        .then_output(|| UpdateAliasOutput::builder().build());
    let entries = no_entry_points();
    let client = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        [
            &get_alias,
            &alias_read(),
            &no_provisioned(),
            &latest,
            &version_1,
            &upload,
            &publish,
            &stale_write,
            &fresh_write,
            &entries[0],
            &entries[1],
            &entries[2]
        ]
    );

    let report = deploy_with(client, &code).await.unwrap();

    assert_eq!(report.version, "2");
    assert_eq!(report.previous_version, "1");
    assert_eq!(report.canary_weight, 0.1);
    assert_eq!(
        upload.num_calls(),
        1,
        "the second plan publishes what is already in $LATEST"
    );
    assert_eq!(
        publish.num_calls(),
        2,
        "PublishVersion is idempotent on AWS: the second returns the same version"
    );
    assert_eq!(stale_write.num_calls(), 1);
    assert_eq!(fresh_write.num_calls(), 1);
}

#[tokio::test]
async fn an_alias_that_keeps_changing_fails_with_a_clear_conflict_and_no_third_write() {
    let code = package();
    let get_alias = mock!(Client::get_alias).then_output(|| alias_on("1", "rev-a"));
    let version_1 = mock!(Client::get_function)
        .match_requests(|r| r.qualifier() == Some("1"))
        .then_output(|| configuration("1", STABLE_HASH));
    let new_hash: &'static str = Box::leak(code.identity().to_string().into_boxed_str());
    let latest = mock!(Client::get_function)
        .match_requests(|r| r.qualifier().is_none())
        .then_output(move || configuration("$LATEST", new_hash));
    let publish = mock!(Client::publish_version).then_output(move || {
        PublishVersionOutput::builder()
            .version("2")
            .code_sha256(new_hash)
            .state(State::Active)
            .build()
    });
    let refused = mock!(Client::update_alias).then_error(precondition_failed);
    let entries = no_entry_points();
    let client = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        [
            &get_alias,
            &alias_read(),
            &no_provisioned(),
            &version_1,
            &latest,
            &publish,
            &refused,
            &entries[0],
            &entries[1],
            &entries[2]
        ]
    );

    let err = deploy_with(client, &code).await.unwrap_err();

    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(err.exit_code(), 1);
    let message = err.to_string();
    assert!(
        message.contains("alias orders:live changed concurrently"),
        "{message}"
    );
    assert!(
        message.contains("PreconditionFailedException"),
        "the AWS code is kept: {message}"
    );
    assert_eq!(refused.num_calls(), 2, "one re-plan, then give up");
}

#[tokio::test]
async fn publish_returning_the_existing_version_is_routed_without_an_upload() {
    // AWS's PublishVersion returns the existing latest version when nothing
    // changed; the code is already in $LATEST and published as version 4.
    let code = package();
    let new_hash: &'static str = Box::leak(code.identity().to_string().into_boxed_str());
    let mut rules = reads(new_hash);
    rules.push(mock!(Client::get_alias).then_output(|| alias_on("1", "rev-a")));
    let publish = mock!(Client::publish_version)
        .match_requests(|r| r.revision_id() == Some("rev-$LATEST"))
        .then_output(move || {
            PublishVersionOutput::builder()
                .version("4")
                .code_sha256(new_hash)
                .state(State::Active)
                .build()
        });
    let upload =
        mock!(Client::update_function_code).then_output(|| UpdateFunctionCodeOutput::builder().build());
    let route = mock!(Client::update_alias)
        .match_requests(|r| {
            r.revision_id() == Some("rev-a")
                && r.routing_config()
                    .and_then(AliasRoutingConfiguration::additional_version_weights)
                    .and_then(|w| w.get("4"))
                    == Some(&0.1)
        })
        .then_output(|| UpdateAliasOutput::builder().build());
    rules.extend([publish.clone(), upload.clone(), route.clone()]);
    rules.extend(no_entry_points());
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);

    let report = deploy_with(client, &code).await.unwrap();

    assert_eq!(report.version, "4");
    assert_eq!(report.result.as_str(), "reused");
    assert_eq!(upload.num_calls(), 0);
    assert_eq!(publish.num_calls(), 1);
    assert_eq!(route.num_calls(), 1);
}

#[tokio::test]
async fn a_published_version_with_another_hash_is_refused_before_the_alias_moves() {
    // The CodeSha256 guard: if $LATEST changed under us, we never route to it.
    let code = package();
    let new_hash: &'static str = Box::leak(code.identity().to_string().into_boxed_str());
    let mut rules = reads(new_hash);
    rules.push(mock!(Client::get_alias).then_output(|| alias_on("1", "rev-a")));
    rules.push(mock!(Client::publish_version).then_output(|| {
        PublishVersionOutput::builder()
            .version("5")
            .code_sha256("someone-elses-code=")
            .state(State::Active)
            .build()
    }));
    let route = mock!(Client::update_alias).then_output(|| UpdateAliasOutput::builder().build());
    rules.push(route.clone());
    rules.extend(no_entry_points());
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);

    let err = deploy_with(client, &code).await.unwrap_err();

    assert!(
        err.to_string()
            .contains("has CodeSha256 someone-elses-code=, expected")
            && err.to_string().contains("changed concurrently"),
        "{err}"
    );
    assert_eq!(route.num_calls(), 0, "the alias is not touched");
}

#[tokio::test]
async fn a_missing_function_is_a_clear_error_naming_it() {
    let code = package();
    let no_alias = mock!(Client::get_alias).then_error(|| {
        GetAliasError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("Cannot find alias arn")
                .meta(ErrorMetadata::builder().code("ResourceNotFoundException").build())
                .build(),
        )
    });
    let missing_function = mock!(Client::get_function).then_error(|| {
        aws_sdk_lambda::operation::get_function::GetFunctionError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("Function not found: arn:aws:lambda:us-east-1:123456789012:function:orders")
                .meta(ErrorMetadata::builder().code("ResourceNotFoundException").build())
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&no_alias, &missing_function]);
    let err = deploy_with(client, &code).await.unwrap_err();
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.to_string().starts_with("function orders does not exist"),
        "{err}"
    );
    assert!(
        err.to_string().contains(
            "give --function-config naming its Role, Runtime and Handler so that deploy creates it"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn promote_writes_carry_the_alias_revision_and_the_rollback_record() {
    use lambda_rollout::commands::alias::{ChangeContext, apply_change, known_hashes};
    use lambda_rollout::core::observed::{AliasState, Canary, Observed, VersionState};
    use lambda_rollout::core::plan::{Promotion, promote};

    let before = AliasState {
        arn: format!("{ARN}:live"),
        revision_id: Some("rev-7".into()),
        description: "orders API".into(),
        primary: VersionState {
            version: "3".into(),
            code_sha256: "h3=".into(),
            config: Default::default(),
        },
        canary: Some(Canary {
            version: VersionState {
                version: "4".into(),
                code_sha256: "h4=".into(),
                config: Default::default(),
            },
            weight: 0.1,
        }),
    };
    let observed = Observed {
        function_arn: ARN.into(),
        latest: None,
        alias: Some(before.clone()),
        function_missing: false,
    };
    let write = mock!(Client::update_alias)
        .match_requests(|r| {
            r.revision_id() == Some("rev-7")
                && r.function_version() == Some("4")
                && r.description() == Some("orders API [lambda-rollout rollback-to=3 promoted=4]")
                && r.routing_config()
                    .and_then(|c| c.additional_version_weights())
                    .is_some_and(|w| w.is_empty())
        })
        .then_output(|| UpdateAliasOutput::builder().build());
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&write, &no_provisioned()]);
    let change = promote(&before, &Promotion::Canary).unwrap();
    let hashes = known_hashes(&before);
    let context = ChangeContext {
        function: "orders",
        alias: "live",
        dry_run: false,
        hashes: &hashes,
    };

    let report = apply_change(
        &Lambda::new(client, Log::default()),
        &Log::default(),
        &observed,
        (&before, &lambda_rollout::core::observed::AliasNow::of(&before)),
        &change,
        &context,
    )
    .await
    .unwrap();

    assert_eq!(write.num_calls(), 1);
    assert_eq!(
        (report.version.as_str(), report.previous_version.as_str()),
        ("4", "3")
    );
    assert_eq!(report.code_sha256, "h4=");
}

/// A rollback whose write meets a stale `RevisionId`: the alias is read again
/// and shows canary `second_canary` (at rev-b). Returns the outcome and how
/// many writes were sent with rev-a and rev-b.
async fn rollback_racing(second_canary: &'static str) -> (Result<AliasReport, Error>, usize, usize) {
    use lambda_rollout::commands::alias::observe_decide_apply;
    use lambda_rollout::core::plan::rollback;

    let canary_alias = |revision: &str, canary: &str| {
        GetAliasOutput::builder()
            .alias_arn(format!("{ARN}:live"))
            .function_version("1")
            .revision_id(revision)
            .routing_config(
                AliasRoutingConfiguration::builder()
                    .additional_version_weights(canary, 0.1)
                    .build(),
            )
            .build()
    };
    let get_alias = mock!(Client::get_alias)
        .sequence()
        .output(move || canary_alias("rev-a", "2"))
        .output(move || canary_alias("rev-b", second_canary))
        .build();
    let mut rules = reads(STABLE_HASH);
    for version in ["2", "3"] {
        rules.push(
            mock!(Client::get_function)
                .match_requests(move |r| r.qualifier() == Some(version))
                .then_output(move || configuration(version, "canary-hash=")),
        );
    }
    let stale = mock!(Client::update_alias)
        .match_requests(|r| r.revision_id() == Some("rev-a"))
        .then_error(precondition_failed);
    let fresh = mock!(Client::update_alias)
        .match_requests(move |r| {
            r.revision_id() == Some("rev-b")
                && r.function_version() == Some("1")
                && r.description()
                    .is_some_and(|d| d.contains(&format!("canary-removed={second_canary}")))
        })
        .then_output(|| UpdateAliasOutput::builder().build());
    rules.extend([get_alias.clone(), stale.clone(), fresh.clone()]);
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);
    let lambda = Lambda::new(client, Log::default());

    let outcome = observe_decide_apply(
        &lambda,
        &Log::default(),
        ("orders", "live"),
        false,
        async |before, _| rollback(before, None).map_err(Error::usage),
    )
    .await;
    (outcome, stale.num_calls(), fresh.num_calls())
}

#[tokio::test]
async fn a_rollback_whose_write_met_a_stale_revision_decides_again_on_the_same_routing() {
    // Someone touched the alias (its description, say) but it serves the same.
    let (outcome, stale, fresh) = rollback_racing("2").await;
    let report = outcome.unwrap();
    assert_eq!((stale, fresh), (1, 1));
    assert_eq!(report.previous_version, "2");
    assert_eq!(report.result.as_str(), "rolled-back");
}

#[tokio::test]
async fn a_rollback_racing_another_job_stops_instead_of_undoing_what_it_did() {
    // Another job replaced canary 2 with 3 before our write landed: removing
    // 3 would undo that job, so the rollback stops without a second write.
    let (outcome, stale, fresh) = rollback_racing("3").await;
    let err = outcome.unwrap_err();
    assert!(matches!(err, Error::Interfered(_)), "{err:?}");
    assert_eq!(err.exit_code(), 1);
    assert!(
        err.to_string()
            .contains("canary version 2 was replaced by 3 (10%)"),
        "{err}"
    );
    assert_eq!((stale, fresh), (1, 0));
}

/// Lambda refuses a change while another update of the function is in progress
/// (`ResourceConflictException`); moto's updates finish at once, so it never
/// answers that. The deploy waits for the update (GetFunction until
/// `LastUpdateStatus` is Successful) and sends the upload again.
#[tokio::test]
async fn an_update_in_progress_is_waited_out_and_the_upload_sent_again() {
    use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeError;
    use aws_sdk_lambda::types::error::ResourceConflictException;

    let code = package();
    let new_hash: &'static str = Box::leak(code.identity().to_string().into_boxed_str());
    let get_alias = mock!(Client::get_alias).then_output(|| alias_on("1", "rev-a"));
    let upload = mock!(Client::update_function_code)
        .sequence()
        .error(|| {
            UpdateFunctionCodeError::ResourceConflictException(
                ResourceConflictException::builder()
                    .message("The operation cannot be performed at this time. An update is in progress for resource: orders")
                    .meta(ErrorMetadata::builder().code("ResourceConflictException").build())
                    .build(),
            )
        })
        .output(move || {
            UpdateFunctionCodeOutput::builder()
                .code_sha256(new_hash)
                .revision_id("rev-uploaded")
                .last_update_status(LastUpdateStatus::Successful)
                .build()
        })
        .build();
    let publish = mock!(Client::publish_version).then_output(move || {
        PublishVersionOutput::builder()
            .version("2")
            .code_sha256(new_hash)
            .state(State::Active)
            .build()
    });
    let write = mock!(Client::update_alias).then_output(|| UpdateAliasOutput::builder().build());
    // The plan's read of $LATEST and the waiter's (GetFunction until
    // LastUpdateStatus is Successful) both land here.
    let latest = mock!(Client::get_function)
        .match_requests(|r| r.qualifier().is_none())
        .then_output(|| configuration("$LATEST", STABLE_HASH));
    let version_1 = mock!(Client::get_function)
        .match_requests(|r| r.qualifier() == Some("1"))
        .then_output(|| configuration("1", STABLE_HASH));
    let mut rules = vec![
        alias_read(),
        no_provisioned(),
        latest.clone(),
        version_1,
        get_alias,
        upload.clone(),
        publish,
        write.clone(),
    ];
    rules.extend(no_entry_points());
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);

    let report = deploy_with(client, &code).await.unwrap();

    assert_eq!(report.version, "2");
    assert_eq!(upload.num_calls(), 2, "refused once, sent again after the wait");
    assert!(
        latest.num_calls() >= 2,
        "the update in progress was waited for (GetFunction after the refusal)"
    );
    assert_eq!(write.num_calls(), 1);
}

/// S3 answers moto does not give (it enforces no IAM): access denied, and a
/// HeadObject refused for want of s3:GetObject, which must not stop the upload.
mod s3 {
    use aws_sdk_s3::Client;
    use aws_sdk_s3::config::http::HttpResponse;
    use aws_sdk_s3::primitives::SdkBody;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use lambda_rollout::aws::Store;
    use lambda_rollout::core::values::S3Target;
    use lambda_rollout::log::Log;

    fn response(status: u16, body: &'static str) -> HttpResponse {
        HttpResponse::new(status.try_into().unwrap(), SdkBody::from(body))
    }

    fn target() -> S3Target {
        S3Target {
            bucket: "artifacts".into(),
            prefix: "lambda".into(),
        }
    }

    #[tokio::test]
    async fn access_denied_names_the_object_and_the_permission() {
        let head = mock!(Client::head_object).then_http_response(|| response(403, ""));
        let put = mock!(Client::put_object).then_http_response(|| {
            response(
                403,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
            )
        });
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head, &put]);
        let store = Store::new(client, Log::default());

        let err = store
            .put(&target(), "orders", &super::zip_package())
            .await
            .unwrap_err()
            .to_string();

        assert!(
            err.contains("access denied writing s3://artifacts/lambda/orders/"),
            "{err}"
        );
        assert!(err.contains("s3:PutObject"), "{err}");
        assert_eq!(head.num_calls(), 1);
        assert_eq!(
            put.num_calls(),
            1,
            "a refused HeadObject does not stop the upload"
        );
    }

    #[tokio::test]
    async fn an_object_with_the_same_hash_and_size_is_not_uploaded_again() {
        let package = super::zip_package();
        let hex = lambda_rollout::aws::s3::sha256_hex(&package);
        let size = package.zip.len() as i64;
        let head = mock!(Client::head_object)
            .match_requests(move |r| r.key().is_some_and(|k| k.ends_with(".zip")))
            .then_output(move || {
                aws_sdk_s3::operation::head_object::HeadObjectOutput::builder()
                    .content_length(size)
                    .metadata("sha256", hex.clone())
                    .build()
            });
        let put = mock!(Client::put_object)
            .then_output(|| aws_sdk_s3::operation::put_object::PutObjectOutput::builder().build());
        let client = mock_client!(aws_sdk_s3, RuleMode::MatchAny, [&head, &put]);

        let stored = Store::new(client, Log::default())
            .put(&target(), "orders", &package)
            .await
            .unwrap();

        assert!(!stored.uploaded);
        assert_eq!(
            stored.key,
            format!(
                "lambda/orders/{}.zip",
                lambda_rollout::aws::s3::sha256_hex(&package)
            )
        );
        assert_eq!(put.num_calls(), 0);
    }
}

/// `prune` where the emulator cannot show it: provisioned concurrency
/// (moto does not serve those calls), an alias moving onto a version between
/// the plan and its delete, a version deleted meanwhile, and a real error.
mod prune {
    use aws_sdk_lambda::Client;
    use aws_sdk_lambda::operation::delete_function::{DeleteFunctionError, DeleteFunctionOutput};
    use aws_sdk_lambda::operation::list_aliases::ListAliasesOutput;
    use aws_sdk_lambda::operation::list_event_source_mappings::ListEventSourceMappingsOutput;
    use aws_sdk_lambda::operation::list_provisioned_concurrency_configs::ListProvisionedConcurrencyConfigsOutput;
    use aws_sdk_lambda::operation::list_versions_by_function::ListVersionsByFunctionOutput;
    use aws_sdk_lambda::types::error::ResourceNotFoundException;
    use aws_sdk_lambda::types::{
        AliasConfiguration, FunctionConfiguration, ProvisionedConcurrencyConfigListItem,
    };
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use lambda_rollout::aws::Lambda;
    use lambda_rollout::commands::prune::prune_function;
    use lambda_rollout::core::prune::Keep;
    use lambda_rollout::log::Log;

    use super::{ARN, configuration};

    fn live_on(version: &str) -> ListAliasesOutput {
        let alias = AliasConfiguration::builder()
            .name("live")
            .function_version(version)
            .build();
        ListAliasesOutput::builder().aliases(alias).build()
    }

    /// Versions 1-4; live → 4; version 3 has provisioned concurrency.
    fn listings() -> Vec<Rule> {
        let versions = (1..=4).map(|v| {
            FunctionConfiguration::builder()
                .version(v.to_string())
                .last_modified("2026-01-01T00:00:00.000+0000")
                .build()
        });
        let pc = ProvisionedConcurrencyConfigListItem::builder()
            .function_arn(format!("{ARN}:3"))
            .build();
        vec![
            mock!(Client::get_function).then_output(|| configuration("$LATEST", "h=")),
            mock!(Client::list_versions_by_function).then_output(move || {
                ListVersionsByFunctionOutput::builder()
                    .set_versions(Some(versions.clone().collect()))
                    .build()
            }),
            mock!(Client::list_provisioned_concurrency_configs).then_output(move || {
                ListProvisionedConcurrencyConfigsOutput::builder()
                    .provisioned_concurrency_configs(pc.clone())
                    .build()
            }),
            mock!(Client::list_event_source_mappings)
                .then_output(|| ListEventSourceMappingsOutput::builder().build()),
        ]
    }

    fn keep_none() -> Keep {
        Keep {
            newest: Some(0),
            younger_than: None,
        }
    }

    #[tokio::test]
    async fn each_delete_is_rechecked_and_a_version_gone_meanwhile_is_passed_over() {
        // The plan reads live → 4; just before version 2's delete, live has
        // moved to 2: it is left. Version 1 is gone by the time of its delete.
        let aliases = mock!(Client::list_aliases)
            .sequence()
            .output(|| live_on("4"))
            .output(|| live_on("2"))
            .output(|| live_on("2"))
            .build();
        let delete_2 = mock!(Client::delete_function)
            .match_requests(|r| r.qualifier() == Some("2"))
            .then_output(|| DeleteFunctionOutput::builder().build());
        let delete_1 = mock!(Client::delete_function)
            .match_requests(|r| r.qualifier() == Some("1"))
            .then_error(|| {
                let code = aws_sdk_lambda::error::ErrorMetadata::builder().code("ResourceNotFoundException");
                let missing = ResourceNotFoundException::builder().message("Function not found");
                DeleteFunctionError::ResourceNotFoundException(missing.meta(code.build()).build())
            });
        let mut rules = listings();
        rules.extend([aliases, delete_2.clone(), delete_1.clone()]);
        let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);

        let report = prune_function(
            &Lambda::new(client, Log::default()),
            &Log::default(),
            "orders",
            keep_none(),
            false,
        )
        .await
        .unwrap();

        let protected: Vec<(&str, &str)> = report
            .protected
            .iter()
            .map(|p| (p.version.as_str(), p.reason.as_str()))
            .collect();
        assert_eq!(
            protected,
            [
                ("4", "alias live routes to it (primary)"),
                ("3", "it has provisioned concurrency")
            ]
        );
        assert_eq!(
            delete_2.num_calls(),
            0,
            "live moved onto version 2 before its delete"
        );
        assert_eq!(delete_1.num_calls(), 1);
        assert!(report.pruned.is_empty(), "{:?}", report.pruned);
        let left: Vec<(&str, &str)> = report
            .left
            .iter()
            .map(|l| (l.version.as_str(), l.reason.as_str()))
            .collect();
        assert_eq!(
            left,
            [
                (
                    "2",
                    "became protected before its delete: alias live routes to it (primary)"
                ),
                ("1", "already gone")
            ]
        );
    }

    #[tokio::test]
    async fn a_real_error_stops_the_prune_and_says_what_was_deleted() {
        let aliases = mock!(Client::list_aliases).then_output(|| live_on("4"));
        let delete_2 = mock!(Client::delete_function)
            .match_requests(|r| r.qualifier() == Some("2"))
            .then_output(|| DeleteFunctionOutput::builder().build());
        let delete_1 = mock!(Client::delete_function)
            .match_requests(|r| r.qualifier() == Some("1"))
            .then_http_response(|| {
                aws_sdk_lambda::config::http::HttpResponse::new(
                    403.try_into().unwrap(),
                    aws_sdk_lambda::primitives::SdkBody::from(r#"{"Type":"User","message":"not allowed"}"#),
                )
            });
        let mut rules = listings();
        rules.extend([aliases, delete_2, delete_1]);
        let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);

        let err = prune_function(
            &Lambda::new(client, Log::default()),
            &Log::default(),
            "orders",
            keep_none(),
            false,
        )
        .await
        .unwrap_err();

        assert_eq!(err.exit_code(), 1);
        let message = err.to_string();
        assert!(
            message.contains("failed to delete version 1 of orders"),
            "{message}"
        );
        assert!(message.ends_with("deleted before this: 2"), "{message}");
    }
}

/// Provisioned concurrency on the alias: Lambda refuses routing weights on
/// such an alias, and moves its traffic to a new version only once the new
/// version's provisioned concurrency is allocated. The emulator does not
/// serve these calls (it answers 404), so they are shown here.
mod provisioned {
    use aws_sdk_lambda::Client;
    use aws_sdk_lambda::operation::get_alias::GetAliasOutput;
    use aws_sdk_lambda::operation::get_provisioned_concurrency_config::GetProvisionedConcurrencyConfigOutput;
    use aws_sdk_lambda::operation::publish_version::PublishVersionOutput;
    use aws_sdk_lambda::operation::update_alias::UpdateAliasOutput;
    use aws_sdk_lambda::operation::update_function_code::UpdateFunctionCodeOutput;
    use aws_sdk_lambda::types::{LastUpdateStatus, ProvisionedConcurrencyStatusEnum, State};
    use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
    use lambda_rollout::cli::settings::RolloutSettings;
    use lambda_rollout::commands::deploy::deploy;
    use lambda_rollout::core::controller::Watch;
    use lambda_rollout::core::gates::{GateConfig, OnNoData};
    use lambda_rollout::core::strategy::Step;
    use lambda_rollout::core::values::Weight;
    use lambda_rollout::error::Error;
    use lambda_rollout::log::Log;

    use super::{STABLE_HASH, alias_on, clients, configuration, package, request};

    fn provisioned(
        status: ProvisionedConcurrencyStatusEnum,
        allocated: i32,
    ) -> GetProvisionedConcurrencyConfigOutput {
        GetProvisionedConcurrencyConfigOutput::builder()
            .requested_provisioned_concurrent_executions(10)
            .allocated_provisioned_concurrent_executions(allocated)
            .status(status)
            .build()
    }

    /// live → 1 with 10 provisioned; $LATEST holds the old code; what a
    /// publish of `new_hash` answers; and every write, to count.
    fn alias_with_provisioned_concurrency(new_hash: &'static str) -> (Vec<Rule>, [Rule; 3]) {
        let upload = mock!(Client::update_function_code).then_output(move || {
            UpdateFunctionCodeOutput::builder()
                .code_sha256(new_hash)
                .last_update_status(LastUpdateStatus::Successful)
                .build()
        });
        let publish = mock!(Client::publish_version).then_output(move || {
            PublishVersionOutput::builder()
                .version("2")
                .code_sha256(new_hash)
                .state(State::Active)
                .build()
        });
        let write = mock!(Client::update_alias).then_output(|| UpdateAliasOutput::builder().build());
        let reads = vec![
            mock!(Client::get_alias).then_output(|| -> GetAliasOutput { alias_on("1", "rev-a") }),
            mock!(Client::get_function)
                .match_requests(|r| r.qualifier().is_none())
                .then_output(|| configuration("$LATEST", STABLE_HASH)),
            mock!(Client::get_function)
                .match_requests(|r| r.qualifier() == Some("1") || r.qualifier() == Some("live"))
                .then_output(|| configuration("1", STABLE_HASH)),
        ];
        (reads, [upload, publish, write])
    }

    #[tokio::test]
    async fn a_canary_on_an_alias_with_provisioned_concurrency_is_refused_before_any_write() {
        let code = package();
        let new_hash: &'static str = Box::leak(code.identity().to_string().into_boxed_str());
        let (mut rules, writes) = alias_with_provisioned_concurrency(new_hash);
        rules.push(
            mock!(Client::get_provisioned_concurrency_config)
                .then_output(|| provisioned(ProvisionedConcurrencyStatusEnum::Ready, 10)),
        );
        rules.extend(writes.iter().cloned());
        let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);

        // The default canary weight; then a staged rollout.
        let canary = deploy(&clients(client.clone()), &request(), &code, Log::default()).await;
        let staged = lambda_rollout::cli::settings::DeployRequest {
            rollout: Some(RolloutSettings {
                steps: vec![
                    Step {
                        weight: 0.1,
                        wait: std::time::Duration::from_secs(60),
                    },
                    Step {
                        weight: 1.0,
                        wait: std::time::Duration::ZERO,
                    },
                ],
                watch: Watch {
                    poll: std::time::Duration::from_secs(30),
                    on_no_data: OnNoData::Fail,
                    max_extension: std::time::Duration::ZERO,
                    max_failed_checks: 1,
                    alarms_counted: false,
                },
                gates: GateConfig::default(),
            }),
            weight: None,
            ..request()
        };
        let rollout = deploy(&clients(client), &staged, &code, Log::default()).await;

        for refused in [canary, rollout] {
            let err = refused.unwrap_err();
            assert!(matches!(err, Error::Usage(_)), "{err:?}");
            assert!(
                err.to_string()
                    .contains("alias orders:live has provisioned concurrency (10 requested): Lambda refuses routing weights"),
                "{err}"
            );
        }
        for write in &writes {
            assert_eq!(write.num_calls(), 0, "nothing uploaded, published or routed");
        }
    }

    #[tokio::test]
    async fn a_switch_on_an_alias_with_provisioned_concurrency_waits_until_it_is_ready() {
        let code = package();
        let new_hash: &'static str = Box::leak(code.identity().to_string().into_boxed_str());
        let (mut rules, writes) = alias_with_provisioned_concurrency(new_hash);
        // Before the write (the old version, ready), then while Lambda
        // allocates on the new version, then ready.
        let provisioned_reads = mock!(Client::get_provisioned_concurrency_config)
            .sequence()
            .output(|| provisioned(ProvisionedConcurrencyStatusEnum::Ready, 10))
            .output(|| provisioned(ProvisionedConcurrencyStatusEnum::InProgress, 4))
            .output(|| provisioned(ProvisionedConcurrencyStatusEnum::Ready, 10))
            .build();
        rules.push(provisioned_reads.clone());
        rules.extend(writes.iter().cloned());
        let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);
        let all_at_once = lambda_rollout::cli::settings::DeployRequest {
            weight: Some(Weight::FULL),
            ..request()
        };

        let report = deploy(&clients(client), &all_at_once, &code, Log::default())
            .await
            .unwrap();

        assert_eq!((report.version.as_str(), report.canary_weight), ("2", 1.0));
        assert_eq!(writes[2].num_calls(), 1, "one alias write, no weights");
        assert_eq!(
            provisioned_reads.num_calls(),
            3,
            "read before the switch, then until ready"
        );
    }
}

#[tokio::test]
async fn a_first_deploy_whose_create_alias_answer_was_lost_reads_the_alias_back_and_goes_on() {
    use aws_sdk_lambda::operation::create_alias::CreateAliasError;
    use aws_sdk_lambda::types::error::ResourceConflictException;

    let code = package();
    let new_hash: &'static str = Box::leak(code.identity().to_string().into_boxed_str());
    // No alias yet; after the refused create, the alias serves version 1:
    // the SDK's retry of our own CreateAlias, whose first answer was lost.
    let get_alias = mock!(Client::get_alias)
        .sequence()
        .error(|| {
            GetAliasError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Cannot find alias arn")
                    .meta(ErrorMetadata::builder().code("ResourceNotFoundException").build())
                    .build(),
            )
        })
        .output(|| alias_on("1", "rev-a"))
        .build();
    let latest = mock!(Client::get_function)
        .match_requests(|r| r.qualifier().is_none())
        .then_output(move || configuration("$LATEST", new_hash));
    let publish = mock!(Client::publish_version).then_output(move || {
        PublishVersionOutput::builder()
            .version("1")
            .code_sha256(new_hash)
            .state(State::Active)
            .build()
    });
    let create = mock!(Client::create_alias).then_error(|| {
        CreateAliasError::ResourceConflictException(
            ResourceConflictException::builder()
                .message("Alias already exists")
                .meta(ErrorMetadata::builder().code("ResourceConflictException").build())
                .build(),
        )
    });
    let client = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        [&get_alias, &alias_read(), &latest, &publish, &create]
    );

    let report = deploy_with(client, &code).await.unwrap();

    assert_eq!((report.version.as_str(), report.canary_weight), ("1", 1.0));
    assert_eq!(create.num_calls(), 1, "no second create");
    assert_eq!(get_alias.num_calls(), 2, "observed, then read back once");
}

/// Image functions: "unchanged" is decided by the image's digest. The
/// emulator reports a made-up CodeSha256 and `ResolvedImageUri` for images
/// (ARCHITECTURE.md), so the comparison is shown here: ECR and Lambda mocked,
/// as AWS answers.
mod image_digest {
    use super::*;
    use aws_sdk_ecr::operation::describe_images::DescribeImagesOutput;
    use aws_sdk_ecr::types::ImageDetail;
    use aws_sdk_lambda::types::{FunctionCodeLocation, PackageType};
    use lambda_rollout::aws::Registry;
    use lambda_rollout::commands::deploy::image_code;
    use lambda_rollout::core::plan::Outcome;
    use lambda_rollout::core::values::parse_image_uri;

    const REPOSITORY: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app";

    fn digest(c: char) -> String {
        c.to_string().repeat(64)
    }

    /// `GetFunction` of an image function whose code is the image `hex`.
    fn image_configuration(version: &str, hex: &str) -> GetFunctionOutput {
        let config = FunctionConfiguration::builder()
            .function_arn(format!("{ARN}:{version}"))
            .version(version)
            .package_type(PackageType::Image)
            .code_sha256(hex)
            .revision_id(format!("rev-{version}"))
            .last_update_status(LastUpdateStatus::Successful)
            .state(State::Active)
            .build();
        let code = FunctionCodeLocation::builder()
            .repository_type("ECR")
            .image_uri(format!("{REPOSITORY}:v1"))
            .resolved_image_uri(format!("{REPOSITORY}@sha256:{hex}"))
            .build();
        GetFunctionOutput::builder()
            .configuration(config)
            .code(code)
            .build()
    }

    /// ECR says tag v1 is the image `hex`.
    fn tag_is(hex: String) -> aws_smithy_mocks::Rule {
        mock!(aws_sdk_ecr::Client::describe_images)
            .match_requests(|r| {
                r.repository_name() == Some("app")
                    && r.registry_id() == Some("123456789012")
                    && r.image_ids().first().and_then(|i| i.image_tag()) == Some("v1")
            })
            .then_output(move || {
                DescribeImagesOutput::builder()
                    .image_details(
                        ImageDetail::builder()
                            .image_digest(format!("sha256:{hex}"))
                            .build(),
                    )
                    .build()
            })
    }

    /// Deploy tag v1 of the image with `ecr` and `lambda` mocked.
    async fn deploy_tag(ecr: aws_sdk_ecr::Client, lambda: Client) -> Result<AliasReport, Error> {
        let clients = Clients {
            ecr: Registry::new(ecr, Log::default()),
            ..clients(lambda)
        };
        let image = parse_image_uri(&format!("{REPOSITORY}:v1")).unwrap();
        let code = image_code(&clients, &image).await?;
        deploy(&clients, &request(), &code, Log::default()).await
    }

    fn served(hex: &'static str) -> Vec<aws_smithy_mocks::Rule> {
        vec![
            mock!(Client::get_alias).then_output(|| alias_on("1", "rev-a")),
            mock!(Client::get_function)
                .match_requests(|r| r.qualifier() == Some("live") || r.qualifier() == Some("1"))
                .then_output(move || image_configuration("1", hex)),
            mock!(Client::get_function)
                .match_requests(|r| r.qualifier().is_none())
                .then_output(move || image_configuration("$LATEST", hex)),
            no_provisioned(),
        ]
    }

    #[tokio::test]
    async fn the_tag_the_alias_serves_is_skipped_without_any_write() {
        let hex: &'static str = Box::leak(digest('d').into_boxed_str());
        let describe = tag_is(hex.to_string());
        let ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [&describe]);
        let upload =
            mock!(Client::update_function_code).then_output(|| UpdateFunctionCodeOutput::builder().build());
        let publish = mock!(Client::publish_version).then_output(|| PublishVersionOutput::builder().build());
        let write = mock!(Client::update_alias).then_output(|| UpdateAliasOutput::builder().build());
        let rules = served(hex);
        let lambda = mock_client!(
            aws_sdk_lambda,
            RuleMode::MatchAny,
            [
                &rules[0], &rules[1], &rules[2], &rules[3], &upload, &publish, &write
            ]
        );
        let report = deploy_tag(ecr, lambda).await.unwrap();
        assert_eq!(report.result, Outcome::Skipped);
        assert_eq!(report.code_sha256, hex);
        assert_eq!(describe.num_calls(), 1);
        assert_eq!(
            (upload.num_calls(), publish.num_calls(), write.num_calls()),
            (0, 0, 0)
        );
    }

    #[tokio::test]
    async fn a_tag_that_moved_is_new_code_deployed_by_its_digest() {
        let (old, new): (&'static str, String) = (Box::leak(digest('d').into_boxed_str()), digest('e'));
        let wanted_uri = format!("{REPOSITORY}@sha256:{new}");
        let describe = tag_is(new.clone());
        let ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [&describe]);
        let uri = wanted_uri.clone();
        let upload = mock!(Client::update_function_code)
            .match_requests(move |r| {
                r.image_uri() == Some(uri.as_str()) && r.revision_id() == Some("rev-$LATEST")
            })
            .then_output(|| {
                UpdateFunctionCodeOutput::builder()
                    .revision_id("rev-uploaded")
                    .last_update_status(LastUpdateStatus::Successful)
                    .build()
            });
        let publish = mock!(Client::publish_version)
            .match_requests(|r| r.revision_id() == Some("rev-uploaded"))
            .then_output(|| {
                PublishVersionOutput::builder()
                    .version("2")
                    .state(State::Active)
                    .build()
            });
        let write = mock!(Client::update_alias)
            .match_requests(|r| {
                r.function_version() == Some("1")
                    && r.routing_config()
                        .and_then(|c| c.additional_version_weights())
                        .and_then(|w| w.get("2"))
                        == Some(&0.1)
            })
            .then_output(|| UpdateAliasOutput::builder().build());
        let mut rules = served(old);
        rules.extend(no_entry_points());
        rules.extend([upload.clone(), publish.clone(), write.clone()]);
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);
        let report = deploy_tag(ecr, lambda).await.unwrap();
        assert_eq!(
            (report.result, report.version.as_str()),
            (Outcome::Published, "2")
        );
        assert_eq!(report.code_sha256, new);
        assert_eq!(
            (upload.num_calls(), publish.num_calls(), write.num_calls()),
            (1, 1, 1)
        );
    }
}

/// An answer without an AWS error code (a load balancer's or proxy's 502, an
/// internal error with no body the SDK knows) says what came back — its HTTP
/// status and the start of its body — instead of "unhandled error". The
/// emulator always answers with an error code, so this is shown with a mock.
#[tokio::test]
async fn an_error_without_an_aws_code_says_its_status_and_body() {
    let read = mock!(Client::get_alias).then_http_response(|| {
        aws_sdk_lambda::config::http::HttpResponse::new(
            502.try_into().unwrap(),
            aws_sdk_lambda::primitives::SdkBody::from("<html>\n  upstream connect error\n</html>"),
        )
    });
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&read]);
    let err = Lambda::new(client, Log::default())
        .alias_now("orders", "live")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("HTTP 502 without an AWS error code: <html> upstream connect error </html>"),
        "{err}"
    );
    assert!(!err.contains("unhandled error"), "{err}");
}

/// A version published `Pending` (every real CreateFunction, some
/// PublishVersions) is waited for with GetFunction — in every command's
/// policy and on its own 100/s quota — never GetFunctionConfiguration. The
/// emulator is always `Active` at once, so this is shown with mocks: no rule
/// answers GetFunctionConfiguration, so a call to it fails the test.
#[tokio::test]
async fn a_pending_version_is_waited_for_with_get_function() {
    let publish = mock!(Client::publish_version).then_output(|| {
        PublishVersionOutput::builder()
            .version("7")
            .state(State::Pending)
            .build()
    });
    let pending = mock!(Client::get_function)
        .match_requests(|r| r.qualifier() == Some("7"))
        .sequence()
        .output(|| {
            GetFunctionOutput::builder()
                .configuration(
                    FunctionConfiguration::builder()
                        .version("7")
                        .state(State::Pending)
                        .build(),
                )
                .build()
        })
        .output(|| {
            GetFunctionOutput::builder()
                .configuration(
                    FunctionConfiguration::builder()
                        .version("7")
                        .state(State::Active)
                        .build(),
                )
                .build()
        })
        .build();
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[&publish, &pending]);
    let version = Lambda::new(client, Log::default())
        .publish("orders", None, "test", None)
        .await
        .unwrap();
    assert_eq!(version, "7");
    assert_eq!(pending.num_calls(), 2);
}

/// What invokes the function, as AWS reports it where the emulator cannot:
/// a mapping created on `f:live` keeps the alias in its `FunctionArn` (the
/// emulator records the version), a URL read unqualified names the
/// function, and `GetPolicy` of the alias returns the alias's statements
/// only (the emulator returns every statement for either read).
#[tokio::test]
async fn entry_points_are_judged_by_the_arn_they_name() {
    use aws_sdk_lambda::operation::get_function_url_config::{
        GetFunctionUrlConfigError, GetFunctionUrlConfigOutput,
    };
    use aws_sdk_lambda::operation::get_policy::GetPolicyOutput;
    use aws_sdk_lambda::operation::list_event_source_mappings::ListEventSourceMappingsOutput;
    use aws_sdk_lambda::types::{EventSourceMappingConfiguration, FunctionUrlAuthType};
    use lambda_rollout::core::entry::Verdict;

    let mapping = |queue: &str, arn: String| {
        EventSourceMappingConfiguration::builder()
            .event_source_arn(format!("arn:aws:sqs:us-east-1:123456789012:{queue}"))
            .function_arn(arn)
            .build()
    };
    let mappings = mock!(Client::list_event_source_mappings).then_output(move || {
        ListEventSourceMappingsOutput::builder()
            .event_source_mappings(mapping("through", format!("{ARN}:live")))
            .event_source_mappings(mapping("latest", ARN.to_string()))
            .event_source_mappings(mapping("pinned", format!("{ARN}:3")))
            .event_source_mappings(mapping("other", format!("{ARN}-other")))
            .build()
    });
    let alias_url = mock!(Client::get_function_url_config)
        .match_requests(|r| r.qualifier() == Some("live"))
        .then_error(|| {
            GetFunctionUrlConfigError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("none")
                    .meta(ErrorMetadata::builder().code("ResourceNotFoundException").build())
                    .build(),
            )
        });
    let latest_url = mock!(Client::get_function_url_config)
        .match_requests(|r| r.qualifier().is_none())
        .then_output(|| {
            GetFunctionUrlConfigOutput::builder()
                .function_url("https://abc.lambda-url.us-east-1.on.aws/")
                .function_arn(ARN)
                .auth_type(FunctionUrlAuthType::None)
                .creation_time("2026-12-01T00:00:00Z")
                .last_modified_time("2026-12-01T00:00:00Z")
                .build()
                .unwrap()
        });
    let statement = |sid: &str, resource: String| {
        serde_json::json!({"Sid": sid, "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
            "Action": "lambda:InvokeFunction", "Resource": resource,
            "Condition": {"ArnLike": {"AWS:SourceArn": format!("arn:aws:s3:::{sid}")}}})
    };
    let function_policy = mock!(Client::get_policy)
        .match_requests(|r| r.qualifier().is_none())
        .then_output(move || {
            let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [statement("uploads", ARN.to_string())]});
            GetPolicyOutput::builder().policy(policy.to_string()).build()
        });
    let alias_policy = mock!(Client::get_policy)
        .match_requests(|r| r.qualifier() == Some("live"))
        .then_output(move || {
            let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [statement("images", format!("{ARN}:live"))]});
            GetPolicyOutput::builder().policy(policy.to_string()).build()
        });
    let client = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        [
            &mappings,
            &alias_url,
            &latest_url,
            &function_policy,
            &alias_policy
        ]
    );
    let points = Lambda::new(client, Log::default())
        .entry_points("orders", ARN, "live")
        .await
        .unwrap();
    assert!(points.unreadable.is_empty(), "{:?}", points.unreadable);
    let expected = [
        ("sqs:us-east-1:123456789012:through", Verdict::Through),
        ("sqs:us-east-1:123456789012:latest", Verdict::RunsLatest),
        ("sqs:us-east-1:123456789012:pinned", Verdict::Pinned("3".into())),
        ("https://abc.lambda-url", Verdict::RunsLatest),
        ("from arn:aws:s3:::uploads", Verdict::RunsLatest),
        ("from arn:aws:s3:::images", Verdict::Through),
    ];
    assert_eq!(points.found.len(), expected.len(), "{:?}", points.found);
    for (point, (what, verdict)) in points.found.iter().zip(expected) {
        assert!(point.what.contains(what), "{point:?} should be {what}");
        assert_eq!(point.verdict("live"), verdict, "{point:?}");
    }
}

/// The emulator keeps `Architectures` from `CreateFunction` but ignores it on
/// `UpdateFunctionCode`, so the switch is shown here at the SDK level: the
/// code is unchanged (its hash is `$LATEST`'s and version 1's), the file asks
/// for arm64, and the zip is sent again with `Architectures` on
/// `UpdateFunctionCode` — never on `UpdateFunctionConfiguration`, which has
/// no such key — then published and canaried.
#[tokio::test]
async fn a_new_architecture_is_sent_with_the_code_and_canaried() {
    use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationOutput;
    use aws_sdk_lambda::types::Architecture;
    let code = package();
    let hash: &'static str = Box::leak(code.identity().to_string().into_boxed_str());
    let mut rules = vec![
        mock!(Client::get_function)
            .match_requests(|r| r.qualifier() == Some("live"))
            .then_output(move || configuration("1", hash)),
        no_provisioned(),
        mock!(Client::get_function)
            .match_requests(|r| r.qualifier().is_none())
            .then_output(move || configuration("$LATEST", hash)),
        mock!(Client::get_function)
            .match_requests(|r| r.qualifier() == Some("1"))
            .then_output(move || configuration("1", hash)),
        mock!(Client::get_function)
            .match_requests(|r| r.qualifier() == Some("2"))
            .then_output(move || configuration("2", hash)),
        mock!(Client::get_alias).then_output(|| alias_on("1", "rev-a")),
    ];
    let configure = mock!(Client::update_function_configuration)
        .then_output(|| UpdateFunctionConfigurationOutput::builder().build());
    let upload = mock!(Client::update_function_code)
        .match_requests(|r| r.architectures() == [Architecture::Arm64] && r.zip_file().is_some())
        .then_output(move || {
            UpdateFunctionCodeOutput::builder()
                .code_sha256(hash)
                .revision_id("rev-up")
                .last_update_status(LastUpdateStatus::Successful)
                .build()
        });
    let publish = mock!(Client::publish_version)
        .match_requests(|r| r.revision_id() == Some("rev-up"))
        .then_output(move || {
            PublishVersionOutput::builder()
                .version("2")
                .code_sha256(hash)
                .state(State::Active)
                .build()
        });
    let route = mock!(Client::update_alias)
        .match_requests(|r| {
            r.routing_config()
                .and_then(AliasRoutingConfiguration::additional_version_weights)
                .and_then(|w| w.get("2"))
                == Some(&0.1)
        })
        .then_output(|| UpdateAliasOutput::builder().build());
    rules.extend([configure.clone(), upload.clone(), publish.clone(), route.clone()]);
    rules.extend(no_entry_points());
    let client = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &rules);
    let mut arm = request();
    arm.config = Some(lambda_rollout::core::config::FunctionConfig {
        architectures: Some(vec!["arm64".into()]),
        ..Default::default()
    });

    let report = deploy(&clients(client), &arm, &code, Log::default())
        .await
        .unwrap();

    assert_eq!(
        (report.result.as_str(), report.version.as_str()),
        ("published", "2")
    );
    assert_eq!(report.configuration, ["Architectures"]);
    assert_eq!(upload.num_calls(), 1, "the zip goes again, with Architectures");
    assert_eq!(
        configure.num_calls(),
        0,
        "no configuration update for Architectures"
    );
    assert_eq!((publish.num_calls(), route.num_calls()), (1, 1));
}

/// The latency statistics a reading asks for, of both versions in one
/// `GetMetricData` call, each over the whole window: moto answers a
/// percentile query (`p99`) with HTTP 500, so what CloudWatch answers is
/// given here at the SDK level.
#[tokio::test(flavor = "current_thread")]
async fn latency_percentiles_of_both_versions_are_read_in_one_call() {
    use aws_sdk_cloudwatch::Client as CloudWatch;
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::types::MetricDataResult;
    use lambda_rollout::aws::Monitor;
    use lambda_rollout::core::judge::latency::{Query, Side};

    let query = |side, statistic: &str, bound| Query {
        side,
        statistic: statistic.into(),
        bound,
    };
    let queries = [
        query(Side::Canary, "p99", false),
        query(Side::Stable, "p99", false),
        query(Side::Canary, "p98.26", true),
        query(Side::Stable, "p99.25", true),
    ];
    let asked = mock!(CloudWatch::get_metric_data)
        .match_requests(|request| {
            let asked: Vec<(String, String, String)> = request
                .metric_data_queries()
                .iter()
                .map(|q| {
                    let stat = q.metric_stat().unwrap();
                    let metric = stat.metric().unwrap();
                    let version = metric
                        .dimensions()
                        .iter()
                        .find(|d| d.name() == Some("ExecutedVersion"))
                        .and_then(|d| d.value())
                        .unwrap_or_default()
                        .to_string();
                    (
                        metric.metric_name().unwrap_or_default().to_string(),
                        stat.stat().unwrap_or_default().to_string(),
                        version,
                    )
                })
                .collect();
            let expect =
                |stat: &str, version: &str| ("Duration".to_string(), stat.to_string(), version.to_string());
            asked
                == [
                    expect("p99", "2"),
                    expect("p99", "1"),
                    expect("p98.26", "2"),
                    expect("p99.25", "1"),
                ]
        })
        .then_output(|| {
            let result = |id: &str, value: f64| MetricDataResult::builder().id(id).values(value).build();
            GetMetricDataOutput::builder()
                .metric_data_results(result("l0", 480.0))
                .metric_data_results(result("l1", 400.0))
                .metric_data_results(result("l2", 455.0))
                .metric_data_results(result("l3", 410.0))
                .build()
        });
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&asked]);
    let monitor = Monitor::new(client, Log::default());
    let read = monitor
        .latency(
            ("orders", "live"),
            ("2", "1"),
            std::time::SystemTime::now() - std::time::Duration::from_secs(300),
            &queries,
        )
        .await
        .unwrap();
    assert_eq!(asked.num_calls(), 1);
    let values: Vec<(&str, bool, f64)> = read
        .iter()
        .map(|(q, v)| (q.statistic.as_str(), q.bound, *v))
        .collect();
    assert_eq!(
        values,
        [
            ("p99", false, 480.0),
            ("p99", false, 400.0),
            ("p98.26", true, 455.0),
            ("p99.25", true, 410.0)
        ]
    );
    assert_eq!(read[0].0.side, Side::Canary);
    assert_eq!(read[3].0.side, Side::Stable);
}

/// A fleet's CloudWatch reads keep to its pace in every second: six reads
/// at 5 a second are spread over at least a second (evenly, no burst),
/// whatever CloudWatch answers.
#[tokio::test(flavor = "current_thread")]
async fn cloudwatch_reads_keep_a_fleets_pace() {
    use aws_sdk_cloudwatch::Client as CloudWatch;
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use lambda_rollout::aws::Monitor;

    let read = mock!(CloudWatch::get_metric_data).then_output(|| GetMetricDataOutput::builder().build());
    let client = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&read]);
    let monitor = Monitor::new(client, Log::default()).paced(5);
    let started = std::time::Instant::now();
    for _ in 0..6 {
        monitor
            .counts(("orders", "live"), ("2", "1"), std::time::SystemTime::now())
            .await
            .unwrap();
    }
    assert_eq!(read.num_calls(), 6);
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(950),
        "six reads in {:?}",
        started.elapsed()
    );
}
