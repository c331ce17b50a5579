#!/usr/bin/env bash
# What a user would script with the AWS CLI to skip a deploy whose code and
# configuration are unchanged: read the version the alias serves, compare its
# CodeSha256 and the configured keys with what is wanted.
set -euo pipefail
fn="$1" alias="$2" src="$3" work="$4" wanted="$5"
live="$(aws lambda get-alias --function-name "$fn" --name "$alias" --query FunctionVersion --output text)"
remote="$(aws lambda get-function-configuration --function-name "$fn" --qualifier "$live" \
  --query '[CodeSha256, MemorySize, Timeout, Environment.Variables]' --output json)"
rm -f "$work/cli.zip"
(cd "$src" && zip -qrX -6 "$work/cli.zip" .)
local="$(openssl dgst -sha256 -binary "$work/cli.zip" | base64)"
case "$remote" in *"$local"*"$wanted"*) echo skip ;; *) echo changed ;; esac
