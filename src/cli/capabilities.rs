//! The flags that need an optional service, refused on a platform without
//! it by reading the platform's capabilities (`platform::Capabilities`):
//! the flag named, and the platform's own reason, before any request.

use crate::cli::flags::{DeployArgs, Engine};
use crate::error::{Error, Result};
use crate::platform::{Capabilities, Service};

/// The first flag of `args` that needs a service `caps` lacks, refused.
pub fn refuse_unsupported(caps: &Capabilities, args: &DeployArgs) -> Result<()> {
    let rollout = &args.rollout;
    let handed_off = rollout.engine != Engine::Inline
        || rollout.codedeploy_application.is_some()
        || rollout.codedeploy_deployment_group.is_some()
        || rollout.codedeploy_before_allow_traffic.is_some()
        || rollout.codedeploy_after_allow_traffic.is_some()
        || rollout.codedeploy_wait.is_some();
    let percentile =
        |limits: &[crate::core::judge::LatencyLimit]| limits.iter().any(|l| l.statistic().0 != "avg");
    let percentiles = percentile(&rollout.max_latency_increase) || percentile(&rollout.max_latency);
    let needs: [(&str, bool, Service); 13] = [
        ("--image-uri", args.code.image_uri.is_some(), caps.images),
        ("--s3-bucket", args.s3.s3_bucket.is_some(), caps.staging_uploads),
        ("--function-url", args.function_url.is_some(), caps.function_urls),
        ("--alarm", !rollout.alarms.is_empty(), caps.alarms),
        ("--max-error-rate", rollout.max_error_rate.is_some(), caps.metrics),
        (
            "--max-error-rate-increase",
            rollout.max_error_rate_increase.is_some(),
            caps.metrics,
        ),
        ("--confidence", rollout.confidence.is_some(), caps.metrics),
        (
            "--max-latency-increase",
            !rollout.max_latency_increase.is_empty(),
            caps.metrics,
        ),
        ("--max-latency", !rollout.max_latency.is_empty(), caps.metrics),
        (
            "a latency percentile (--max-latency-increase, --max-latency)",
            percentiles,
            caps.percentiles,
        ),
        (
            "--metrics-file",
            rollout.metrics_file.is_some(),
            caps.custom_metrics,
        ),
        (
            "--ignore-alarms-already-firing",
            rollout.ignore_alarms_already_firing,
            caps.alarms,
        ),
        (
            "--engine codedeploy (and --codedeploy-*)",
            handed_off,
            caps.handoff,
        ),
    ];
    for (flag, given, service) in needs {
        if let (true, Service::Unsupported(why)) = (given, service) {
            return Err(Error::usage(format!(
                "{flag} is not supported with --platform {}: {why}",
                caps.flag
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::platform::LAMBDA;
    use crate::cli::flags::{Command, parse_from};

    fn deploy_args(extra: &[&str]) -> DeployArgs {
        let mut args = vec!["lambda-rollout", "deploy", "--function-name", "f", "--alias", "a"];
        args.extend_from_slice(extra);
        match parse_from(args).unwrap().command {
            Command::Deploy(args) => *args,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_flag_needing_a_missing_service_is_refused_with_the_platforms_reason() {
        let staged = deploy_args(&["--source", ".", "--s3-bucket", "deploy-artifacts"]);
        assert!(refuse_unsupported(&LAMBDA, &staged).is_ok());
        let third = Capabilities {
            flag: "third",
            staging_uploads: Service::Unsupported("it has no object storage"),
            ..LAMBDA
        };
        let refused = refuse_unsupported(&third, &staged).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "--s3-bucket is not supported with --platform third: it has no object storage"
        );
        assert_eq!(refused.exit_code(), 2);
        let plain = deploy_args(&["--source", "."]);
        assert!(refuse_unsupported(&third, &plain).is_ok());
    }
}
