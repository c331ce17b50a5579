//! The CodeDeploy hand-off (`deploy --engine codedeploy`): where and how
//! CodeDeploy runs the traffic shift, and the Lambda AppSpec that asks for it.

use std::time::Duration;

use serde_json::json;

use crate::core::values::function_name_of;

/// Where and how CodeDeploy runs the shift (checked before any request).
#[derive(Debug, Clone, PartialEq)]
pub struct HandoffSettings {
    pub application: String,
    pub deployment_group: String,
    /// Such as `CodeDeployDefault.LambdaCanary10Percent5Minutes`.
    pub config_name: String,
    /// Lambda functions CodeDeploy invokes as hooks.
    pub before_allow_traffic: Option<String>,
    pub after_allow_traffic: Option<String>,
    /// Wait for the deployment to succeed, at most this long.
    pub wait: Option<Duration>,
}

/// The Lambda AppSpec: shift `alias` of `function` from `current` to `target`.
pub fn appspec(
    function: &str,
    alias: &str,
    current: &str,
    target: &str,
    handoff: &HandoffSettings,
) -> String {
    let name = function_name_of(function);
    let mut spec = json!({
        "version": 0.0,
        "Resources": [{
            name: {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Name": name,
                    "Alias": alias,
                    "CurrentVersion": current,
                    "TargetVersion": target,
                }
            }
        }]
    });
    let hooks: Vec<serde_json::Value> = [
        ("BeforeAllowTraffic", &handoff.before_allow_traffic),
        ("AfterAllowTraffic", &handoff.after_allow_traffic),
    ]
    .into_iter()
    .filter_map(|(hook, function)| function.as_ref().map(|f| json!({ hook: f })))
    .collect();
    if !hooks.is_empty() {
        spec["Hooks"] = serde_json::Value::Array(hooks);
    }
    spec.to_string()
}
