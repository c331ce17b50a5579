"""Record what Tencent's official Python SDK sends for fixed inputs: the
headers (Authorization with its TC3-HMAC-SHA256 signature among them) and the
body of SCF requests, as JSON test data for the Rust signer
(tests/scf/tc3_vectors.json; the unit tests of src/scf/sign.rs read it).

Re-record (the output is committed; no test runs this):
    scripts/setup-tools   # installs the SDK into .venv (scripts/requirements-tools.txt)
    .venv/bin/python tests/scf/record_vectors.py > tests/scf/tc3_vectors.json
"""

import json
import sys
import time
from unittest import mock

from tencentcloud.common import credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.common.sign import Sign
from tencentcloud.scf.v20180416 import scf_client

SECRET_ID = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE"
SECRET_KEY = "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"

CASES = [
    # (timestamp, region, token, action, params)
    (1765000000, "ap-guangzhou", None, "GetFunction", {"FunctionName": "orders", "Namespace": "default"}),
    (1765000001, "ap-guangzhou", None, "PublishVersion", {"FunctionName": "orders", "Description": "lambda-rollout: abc", "Namespace": "default"}),
    (
        1765086399,
        "ap-shanghai",
        "session-token-EXAMPLE",
        "UpdateAlias",
        {
            "FunctionName": "orders",
            "Name": "live",
            "FunctionVersion": "3",
            "Namespace": "default",
            "RoutingConfig": {"AdditionalVersionWeights": [{"Version": "4", "Weight": 0.1}]},
        },
    ),
    (1765086400, "ap-guangzhou", None, "ListVersionByFunction", {"FunctionName": "orders", "Namespace": "default", "Offset": 0, "Limit": 20}),
    (1798761600, "na-siliconvalley", None, "GetAlias", {"FunctionName": "函数", "Name": "live"}),
]


def record(timestamp, region, token, action, params):
    cred = credential.Credential(SECRET_ID, SECRET_KEY, token)
    profile = ClientProfile(httpProfile=HttpProfile(endpoint="scf.tencentcloudapi.com", reqMethod="POST"))
    client = scf_client.ScfClient(cred, region, profile)
    req = RequestInternal("scf.tencentcloudapi.com", "POST", "/")
    with mock.patch("time.time", return_value=float(timestamp)):
        client._build_req_with_tc3_signature(action, params, req)
    body = req.data if isinstance(req.data, str) else req.data.decode("utf-8")
    headers = {k: v for k, v in req.header.items() if k != "X-TC-RequestClient"}
    return {
        "secret_id": SECRET_ID,
        "secret_key": SECRET_KEY,
        "token": token,
        "region": region,
        "action": action,
        "timestamp": timestamp,
        "body": body,
        "headers": headers,
    }


def with_action_signed(case):
    """The same request with `x-tc-action` signed too, as Tencent's API
    documentation shows it (the SDK signs content-type and host only): the
    canonical request built here, the signature by the SDK's Sign.sign_tc3."""
    import hashlib

    headers = case["headers"]
    canonical = "POST\n/\n\ncontent-type:%s\nhost:%s\nx-tc-action:%s\n\ncontent-type;host;x-tc-action\n%s" % (
        headers["Content-Type"],
        headers["Host"],
        case["action"].lower(),
        hashlib.sha256(case["body"].encode("utf-8")).hexdigest(),
    )
    date = time.strftime("%Y-%m-%d", time.gmtime(case["timestamp"]))
    scope = date + "/scf/tc3_request"
    string2sign = "TC3-HMAC-SHA256\n%d\n%s\n%s" % (case["timestamp"], scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
    signature = Sign.sign_tc3(case["secret_key"], date, "scf", string2sign)
    signed = dict(case, headers=dict(headers))
    signed["headers"]["Authorization"] = "TC3-HMAC-SHA256 Credential=%s/%s, SignedHeaders=content-type;host;x-tc-action, Signature=%s" % (
        case["secret_id"],
        scope,
        signature,
    )
    return signed


recorded = [record(*case) for case in CASES]
json.dump(
    {"recorded_with": "tencentcloud-sdk-python-common 3.1.195", "cases": recorded + [with_action_signed(recorded[2])]},
    sys.stdout,
    ensure_ascii=False,
    indent=2,
)
sys.stdout.write("\n")
