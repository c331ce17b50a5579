"""Conformance of the SCF contract double (tests/scf/double.py) with
Tencent's official Python SDK: the SDK drives the double through the flow
lambda-rollout uses (create, read, configure, upload, publish, invoke a
version, list versions and triggers, aliases by weight and by rule, delete
a version, read two versions' metrics from Tencent Cloud Observability)
and through the errors the tool handles. The double must accept every request the official client sends and
answer what the client parses: a field the SDK's models do not know is a
warning, turned into a failure here.

Run by the integration tests (`scf::the_double_conforms_to_the_official_sdk`)
with the project's virtualenv: .venv/bin/python tests/scf/conformance.py
Prints one line per checked step; exits non-zero at the first mismatch.
"""

import base64
import io
import json
import os
import subprocess
import sys
import time
import urllib.request
import warnings
from datetime import datetime, timezone
import zipfile

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.monitor.v20180724 import models as monitor_models, monitor_client
from tencentcloud.scf.v20180416 import models, scf_client

warnings.simplefilter("error")

SECRET_ID, SECRET_KEY, TOKEN = "AKIDconformance", "conformance-key", "conformance-token"


def client(port, key=SECRET_KEY, token=TOKEN):
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{port}", reqMethod="POST"))
    return scf_client.ScfClient(credential.Credential(SECRET_ID, key, token), "ap-guangzhou", profile)


def call(scf, action, params, api=models):
    request = getattr(api, action + "Request")()
    request.from_json_string(json.dumps(params))
    return getattr(scf, action)(request)


def monitor(port):
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=f"127.0.0.1:{port}", reqMethod="POST"))
    return monitor_client.MonitorClient(credential.Credential(SECRET_ID, SECRET_KEY, TOKEN), "ap-guangzhou", profile)


def refused(scf, action, params, code, api=models):
    try:
        call(scf, action, params, api)
    except TencentCloudSDKException as e:
        assert e.get_code() == code, f"{action}: expected {code}, got {e.get_code()}: {e.get_message()}"
        print(f"ok {action} refused: {code}")
        return
    raise AssertionError(f"{action} {params} was accepted; expected {code}")


def zipped(text):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("index.py", text)
    return base64.b64encode(out.getvalue()).decode()


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    double = subprocess.Popen(
        [sys.executable, os.path.join(here, "double.py"), SECRET_ID, SECRET_KEY, "--token", TOKEN],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(double.stdout.readline())
        flow(port)
    finally:
        double.kill()
        double.wait()
        double.stdout.close()


def flow(port):
    scf = client(port)
    ns = {"Namespace": "default"}
    call(scf, "CreateFunction", dict(ns, FunctionName="orders", Code={"ZipFile": zipped("v0")}, Handler="index.main_handler", Runtime="Python3.9"))
    print("ok CreateFunction")
    got = call(scf, "GetFunction", dict(ns, FunctionName="orders"))
    assert got.Status == "Active" and got.Qualifier == "$LATEST" and got.CodeSize > 0, got.to_json_string()
    print("ok GetFunction $LATEST")

    for n, text in enumerate(["v1", "v2"], start=1):
        call(scf, "UpdateFunctionCode", dict(ns, FunctionName="orders", ZipFile=zipped(text)))
        status = call(scf, "GetFunction", dict(ns, FunctionName="orders")).Status
        assert status == "Updating", status
        refused(scf, "PublishVersion", dict(ns, FunctionName="orders"), "FailedOperation.PublishVersion")
        status = call(scf, "GetFunction", dict(ns, FunctionName="orders")).Status
        assert status == "Active", status
        published = call(scf, "PublishVersion", dict(ns, FunctionName="orders", Description=f"lambda-rollout sha256:{n}"))
        assert published.FunctionVersion == str(n) and published.Description == f"lambda-rollout sha256:{n}", published.to_json_string()
        print(f"ok UpdateFunctionCode, PublishVersion {n}")

    environment = {"Variables": [{"Key": "STAGE", "Value": "prod"}, {"Key": "TOKEN", "Value": "02134"}]}
    call(scf, "UpdateFunctionConfiguration", dict(ns, FunctionName="orders", MemorySize=256, Timeout=10, Environment=environment))
    got = call(scf, "GetFunction", dict(ns, FunctionName="orders"))
    assert got.Status == "Updating", got.to_json_string()
    refused(scf, "UpdateFunctionConfiguration", dict(ns, FunctionName="orders", MemorySize=300), "FailedOperation.UpdateFunctionConfiguration")
    got = call(scf, "GetFunction", dict(ns, FunctionName="orders"))
    assert got.Status == "Active" and got.MemorySize == 256 and got.Timeout == 10, got.to_json_string()
    assert [(v.Key, v.Value) for v in got.Environment.Variables] == [("STAGE", "prod"), ("TOKEN", "02134")], got.to_json_string()
    refused(scf, "UpdateFunctionConfiguration", dict(ns, FunctionName="orders", MemorySize=300), "InvalidParameterValue.MemorySize")
    print("ok UpdateFunctionConfiguration, GetFunction reports it")

    handler = "def main_handler(event, context):\n    if event.get('fail'):\n        raise ValueError('asked to fail')\n    return {'seen': event['n']}\n"
    call(scf, "UpdateFunctionCode", dict(ns, FunctionName="orders", ZipFile=zipped(handler)))
    while call(scf, "GetFunction", dict(ns, FunctionName="orders")).Status != "Active":
        pass
    call(scf, "PublishVersion", dict(ns, FunctionName="orders", Description="lambda-rollout sha256:3"))
    invoked = call(scf, "InvokeFunction", dict(ns, FunctionName="orders", Qualifier="3", Event=json.dumps({"n": 7})))
    assert invoked.Result.InvokeResult == 0 and json.loads(invoked.Result.RetMsg) == {"seen": 7}, invoked.to_json_string()
    invoked = call(scf, "InvokeFunction", dict(ns, FunctionName="orders", Qualifier="3", Event=json.dumps({"fail": True}), LogType="None"))
    assert invoked.Result.InvokeResult != 0 and "asked to fail" in invoked.Result.ErrMsg, invoked.to_json_string()
    print("ok InvokeFunction of a version: a result, and a function error")

    got = call(scf, "GetFunction", dict(ns, FunctionName="orders", Qualifier="1"))
    assert got.Qualifier == "1" and got.Description == "lambda-rollout sha256:1", got.to_json_string()
    listed = call(scf, "ListVersionByFunction", dict(ns, FunctionName="orders", Offset=0, Limit=2))
    assert listed.TotalCount == 4 and [v.Version for v in listed.Versions] == ["$LATEST", "1"], listed.to_json_string()
    listed = call(scf, "ListVersionByFunction", dict(ns, FunctionName="orders", Offset=2, Limit=2))
    assert [v.Version for v in listed.Versions] == ["2", "3"] and listed.Versions[0].AddTime, listed.to_json_string()
    print("ok ListVersionByFunction, two pages")

    refused(scf, "GetAlias", dict(ns, FunctionName="orders", Name="live"), "ResourceNotFound.Alias")
    call(scf, "CreateAlias", dict(ns, FunctionName="orders", Name="live", FunctionVersion="1", Description="first"))
    refused(scf, "CreateAlias", dict(ns, FunctionName="orders", Name="live", FunctionVersion="1"), "ResourceInUse.Alias")
    weights = {"AdditionalVersionWeights": [{"Version": "2", "Weight": 0.1}]}
    call(scf, "UpdateAlias", dict(ns, FunctionName="orders", Name="live", FunctionVersion="1", RoutingConfig=weights))
    alias = call(scf, "GetAlias", dict(ns, FunctionName="orders", Name="live"))
    assert alias.FunctionVersion == "1" and alias.Description == "first", alias.to_json_string()
    assert [(w.Version, w.Weight) for w in alias.RoutingConfig.AdditionalVersionWeights] == [("2", 0.1)], alias.to_json_string()
    print("ok CreateAlias, UpdateAlias by weight, GetAlias")

    for method, expression in [("exact", "tester"), ("range", "[0,9]")]:
        rule = {"AddtionVersionMatchs": [{"Version": "2", "Key": "invoke.headers.x-canary", "Method": method, "Expression": expression}]}
        call(scf, "UpdateAlias", dict(ns, FunctionName="orders", Name="live", FunctionVersion="1", RoutingConfig=rule, Description="by rule"))
        alias = call(scf, "GetAlias", dict(ns, FunctionName="orders", Name="live"))
        match = alias.RoutingConfig.AddtionVersionMatchs[0]
        assert (match.Version, match.Key, match.Method, match.Expression) == ("2", "invoke.headers.x-canary", method, expression), alias.to_json_string()
        assert alias.RoutingConfig.AdditionalVersionWeights == [] and alias.Description == "by rule", alias.to_json_string()
        print(f"ok UpdateAlias by rule ({method})")
    call(scf, "CreateTrigger", dict(ns, FunctionName="orders", TriggerName="nightly", Type="timer", TriggerDesc="0 0 2 * * * *", Qualifier="$LATEST", Enable="OPEN"))
    call(scf, "CreateTrigger", dict(ns, FunctionName="orders", TriggerName="api", Type="apigw", Qualifier="live"))
    refused(scf, "CreateTrigger", dict(ns, FunctionName="orders", TriggerName="api", Type="apigw", Qualifier="live"), "ResourceInUse.Trigger")
    triggers = call(scf, "ListTriggers", dict(ns, FunctionName="orders", Offset=0, Limit=1))
    assert triggers.TotalCount == 2 and [(t.TriggerName, t.Type, t.Qualifier) for t in triggers.Triggers] == [("nightly", "timer", "$LATEST")], triggers.to_json_string()
    triggers = call(scf, "ListTriggers", dict(ns, FunctionName="orders", Offset=1, Limit=1))
    assert [(t.TriggerName, t.Qualifier, t.Enable) for t in triggers.Triggers] == [("api", "live", 1)], triggers.to_json_string()
    print("ok CreateTrigger, ListTriggers in pages")
    listed = call(scf, "ListAliases", dict(ns, FunctionName="orders"))
    assert [a.Name for a in listed.Aliases] == ["live"], listed.to_json_string()
    print("ok ListAliases")

    bad = {"AddtionVersionMatchs": [{"Version": "2", "Key": "invoke.headers.x-canary", "Method": "range", "Expression": "[9,0]"}]}
    refused(scf, "UpdateAlias", dict(ns, FunctionName="orders", Name="live", FunctionVersion="1", RoutingConfig=bad), "InvalidParameterValue.RoutingConfig")
    both = dict(weights, **{"AddtionVersionMatchs": bad["AddtionVersionMatchs"]})
    refused(scf, "UpdateAlias", dict(ns, FunctionName="orders", Name="live", FunctionVersion="1", RoutingConfig=both), "InvalidParameterValue.RoutingConfig")
    refused(scf, "UpdateAlias", dict(ns, FunctionName="orders", Name="live", FunctionVersion="9"), "ResourceNotFound.FunctionVersion")
    refused(scf, "GetFunction", dict(ns, FunctionName="gone"), "ResourceNotFound.Function")
    refused(scf, "DeleteFunction", dict(ns, FunctionName="orders", Qualifier="2"), "ResourceInUse.Alias")
    call(scf, "UpdateAlias", dict(ns, FunctionName="orders", Name="live", FunctionVersion="2", RoutingConfig={"AdditionalVersionWeights": []}))
    call(scf, "DeleteFunction", dict(ns, FunctionName="orders", Qualifier="1"))
    refused(scf, "GetFunction", dict(ns, FunctionName="orders", Qualifier="1"), "ResourceNotFound.FunctionVersion")
    print("ok DeleteFunction of a version, and of one an alias routes to refused")

    refused(client(port, key="wrong-key"), "GetFunction", dict(ns, FunctionName="orders"), "AuthFailure.SignatureFailure")
    refused(client(port, token="wrong-token"), "GetFunction", dict(ns, FunctionName="orders"), "AuthFailure.TokenFailure")
    try:
        scf.call_json("GetFunction", dict(ns, FunctionName="orders", Surprise=1))
        raise AssertionError("an unknown parameter was accepted")
    except TencentCloudSDKException as e:
        assert e.get_code() == "UnknownParameter", e.get_code()
    print("ok signatures, tokens and parameters are checked")

    metrics(port)

    state = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/__test/state"))
    assert sorted(state["default/orders"]["versions"]) == ["$LATEST", "2", "3"], state
    print("ok")


def metrics(port):
    """GetMonitorData as the tool asks it: one metric of two versions, in
    one-minute periods since a time with an offset."""
    def put(version, metric, value):
        body = json.dumps({"function": "orders", "version": version, "metric": metric, "value": value}).encode()
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/__test/metrics", data=body, method="POST"))

    for version, calls, errors in [("3", 40, 4), ("2", 400, 1)]:
        put(version, "Invocation", calls)
        put(version, "Error", errors)
    put("3", "Duration", 120.5)
    mon = monitor(port)
    instance = lambda version: {"Dimensions": [{"Name": "functionName", "Value": "orders"}, {"Name": "namespace", "Value": "default"}, {"Name": "version", "Value": version}]}
    since = datetime.fromtimestamp(time.time() - 600, timezone.utc).isoformat(timespec="seconds")
    asked = {"Namespace": "QCE/SCF_V2", "Period": 60, "StartTime": since, "Instances": [instance("3"), instance("2")]}
    got = call(mon, "GetMonitorData", dict(asked, MetricName="Error"), monitor_models)
    by_version = {next(d.Value for d in p.Dimensions if d.Name == "version"): p.Values for p in got.DataPoints}
    assert got.Period == 60 and by_version == {"3": [4.0], "2": [1.0]}, got.to_json_string()
    assert all(len(p.Timestamps) == len(p.Values) for p in got.DataPoints), got.to_json_string()
    got = call(mon, "GetMonitorData", dict(asked, MetricName="Duration"), monitor_models)
    by_version = {next(d.Value for d in p.Dimensions if d.Name == "version"): p.Values for p in got.DataPoints}
    assert by_version == {"3": [120.5], "2": []}, got.to_json_string()
    refused(mon, "GetMonitorData", dict(asked, MetricName="Nonsense"), "InvalidParameterValue", monitor_models)
    print("ok GetMonitorData of two versions (QCE/SCF_V2)")


if __name__ == "__main__":
    main()
