#!/usr/bin/env bash
# What a user would script with the AWS CLI for a canary deploy of changed
# code: upload and publish, wait, route 10 % to the new version.
set -euo pipefail
fn="$1" alias="$2" src="$3" work="$4"
rm -f "$work/cli.zip"
(cd "$src" && zip -qrX -6 "$work/cli.zip" .)
stable="$(aws lambda get-alias --function-name "$fn" --name "$alias" --query FunctionVersion --output text)"
new="$(aws lambda update-function-code --function-name "$fn" --zip-file "fileb://$work/cli.zip" --publish --query Version --output text)"
aws lambda wait function-updated --function-name "$fn"
aws lambda update-alias --function-name "$fn" --name "$alias" --function-version "$stable" \
  --routing-config "AdditionalVersionWeights={$new=0.1}" >/dev/null
