#!/usr/bin/env bash
# What a user would script with the AWS CLI to canary a configuration-only
# change: update $LATEST's configuration, wait, publish, route 10 % to it.
set -euo pipefail
fn="$1" alias="$2" memory="$3"
stable="$(aws lambda get-alias --function-name "$fn" --name "$alias" --query FunctionVersion --output text)"
aws lambda update-function-configuration --function-name "$fn" --memory-size "$memory" >/dev/null
aws lambda wait function-updated-v2 --function-name "$fn"
new="$(aws lambda publish-version --function-name "$fn" --query Version --output text)"
aws lambda update-alias --function-name "$fn" --name "$alias" --function-version "$stable" \
  --routing-config "AdditionalVersionWeights={$new=0.1}" >/dev/null
