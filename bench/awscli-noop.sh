#!/usr/bin/env bash
# What a user would script with the AWS CLI to skip an unchanged deploy:
# read the published hash, zip the code, compare.
set -euo pipefail
fn="$1" alias="$2" src="$3" work="$4"
live="$(aws lambda get-alias --function-name "$fn" --name "$alias" --query FunctionVersion --output text)"
remote="$(aws lambda get-function-configuration --function-name "$fn" --qualifier "$live" --query CodeSha256 --output text)"
rm -f "$work/cli.zip"
(cd "$src" && zip -qrX -6 "$work/cli.zip" .)
local="$(openssl dgst -sha256 -binary "$work/cli.zip" | base64)"
[ "$local" = "$remote" ] && echo skip || echo changed
