"""A contract double of Tencent Cloud SCF's management API (version
2018-04-16), and of the one action of Tencent Cloud Observability's API
(`monitor`, version 2018-07-24) that reads SCF's function metrics
(`GetMonitorData`, namespace `QCE/SCF_V2`), for tests only: it is not a
product and users never run it.

It speaks the API as Tencent documents it: `POST /` with a JSON body, the
action and version in `X-TC-Action` and `X-TC-Version`, every request signed
with TC3-HMAC-SHA256, every answer HTTP 200 with `{"Response": {...}}`, an
error as `Response.Error.Code`/`Message`. It keeps functions in namespaces,
`$LATEST`, published versions and aliases that route by weight
(`AdditionalVersionWeights`) or by rule (`AddtionVersionMatchs`, Tencent's
spelling), and refuses what the API refuses: a bad signature, an unknown
action or parameter, a missing one, a routing rule SCF would not take.
`tests/scf/conformance.py` drives it with Tencent's official Python SDK, so
it accepts what the real client sends and answers what the real client
parses.

Usage: double.py SECRET_ID SECRET_KEY [--token TOKEN] [--function [REGION/]NS/NAME ...]
Prints the port it listens on (127.0.0.1), then serves until killed.

Besides the API, for tests: `GET /__test/state` returns everything it holds;
`POST /__test/after` with `{"action": A, "then": {"action": B, "params": P}}`
makes another writer's request B right after the next successful A;
`POST /__test/call` with `{"action": A, "params": P}` is another writer's
request A now (unsigned, unrecorded; in `"region"`, if given);
`POST /__test/metrics` with `{"function": F, "version": V, "metric": M,
"value": X}` adds a data point of metric M (`Invocation`, `Error`,
`Throttle`, `Duration`) of that version at this minute (in `"namespace"`
and `"region"`, if given): a count adds up within its minute, a duration is
the minute's mean;
`POST /__test/fail` with `{"action": A, "code": C, "times": N}` answers the
next N requests of A with error C (and `"message"`, if given; only those
in `"region"`, if given); `GET
/__test/requests` lists every API request received (action, region and
when, in seconds of a monotonic clock), including those it refused.

Each region holds its own functions, as SCF's regions do: a request acts in
the region its `X-TC-Region` names, `--function` and the test hooks in
ap-guangzhou unless they name another.
"""

import base64
import hashlib
import hmac
import io
import json
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSION = "2018-04-16"
MONITOR_API_VERSION = "2018-07-24"
# Where a test's functions and hooks are unless they name a region.
DEFAULT_REGION = "ap-guangzhou"

# Parameters each action takes (required ones first, then optional ones), as
# the API reference lists them; anything else is `UnknownParameter`.
ACTIONS = {
    "CreateFunction": (["FunctionName", "Code"], ["Handler", "Description", "MemorySize", "Timeout", "Runtime", "Namespace", "Environment", "Type"]),
    "GetFunction": (["FunctionName"], ["Qualifier", "Namespace", "ShowCode"]),
    "UpdateFunctionCode": (["FunctionName"], ["Handler", "CosBucketName", "CosObjectName", "ZipFile", "Namespace", "CosBucketRegion", "InstallDependency", "EnvId", "Publish", "Code", "CodeSource"]),
    "PublishVersion": (["FunctionName"], ["Description", "Namespace"]),
    "ListVersionByFunction": (["FunctionName"], ["Namespace", "Offset", "Limit", "Order", "OrderBy"]),
    "GetAlias": (["FunctionName", "Name"], ["Namespace"]),
    "CreateAlias": (["Name", "FunctionName", "FunctionVersion"], ["Namespace", "RoutingConfig", "Description"]),
    "UpdateAlias": (["FunctionName", "Name", "FunctionVersion"], ["Namespace", "RoutingConfig", "Description"]),
    "ListAliases": (["FunctionName"], ["Namespace", "FunctionVersion", "Offset", "Limit"]),
    "DeleteFunction": (["FunctionName"], ["Namespace", "Qualifier"]),
    "UpdateFunctionConfiguration": (["FunctionName"], ["Description", "MemorySize", "Timeout", "Runtime", "Environment", "Namespace", "VpcConfig", "Role", "InstallDependency", "ClsLogsetId", "ClsTopicId", "Publish", "L5Enable", "Layers", "DeadLetterConfig", "PublicNetConfig", "CfsConfig", "InitTimeout", "ProtocolParams", "InstanceConcurrencyConfig", "DnsCache", "IntranetConfig", "IgnoreSysLog"]),
    "CreateTrigger": (["FunctionName", "TriggerName", "Type"], ["TriggerDesc", "Namespace", "Qualifier", "Enable", "CustomArgument", "Description"]),
    "ListTriggers": (["FunctionName"], ["Namespace", "Offset", "Limit", "OrderBy", "Order", "Filters"]),
    "InvokeFunction": (["FunctionName"], ["Qualifier", "Event", "LogType", "Namespace", "RoutingKey"]),
}

# Tencent Cloud Observability's actions the tool uses.
MONITOR_ACTIONS = {
    "GetMonitorData": (["Namespace", "MetricName", "Instances"], ["Period", "StartTime", "EndTime", "SpecifyStatistics"]),
}

# Each API by its version: the service a signature names, and its actions.
APIS = {API_VERSION: ("scf", ACTIONS), MONITOR_API_VERSION: ("monitor", MONITOR_ACTIONS)}

# SCF's function metrics: which are counts (summed within a period); the
# rest (Duration) are a period's mean.
SCF_METRICS = {"Invocation": "sum", "Error": "sum", "Throttle": "sum", "Duration": "mean"}

# Runs a version's handler (a Python function in its zip) in a child
# process, as SCF would run it: argv is the unpacked code, the handler
# (file.function) and the event; prints {"ret": value} or {"error": text}.
RUNNER = """
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
module, function = sys.argv[2].rsplit(".", 1)
try:
    ret = getattr(importlib.import_module(module), function)(json.loads(sys.argv[3]), {})
    print(json.dumps({"ret": ret}))
except Exception as e:
    print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
"""


class ApiError(Exception):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


def now_text():
    # SCF writes its times in China Standard Time (UTC+8), without a zone.
    return datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")


class Scf:
    """The state: functions by (region, namespace, name). Each request acts
    in the region its `X-TC-Region` names; a test hook in `DEFAULT_REGION`
    unless it names one (`"region"`)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.region = DEFAULT_REGION
        self.functions = {}
        self.after = {}
        self.failures = {}
        self.requests = []
        # (region, namespace, function, version, metric) -> {minute: [values]}
        self.metrics = {}

    def function(self, params):
        key = (self.region, params.get("Namespace") or "default", params["FunctionName"])
        if key not in self.functions:
            raise ApiError("ResourceNotFound.Function", f"function {key[2]} does not exist in namespace {key[1]}")
        return self.functions[key]

    def create(self, region, namespace, name, zip_b64="", handler="index.main_handler", runtime="Python3.9", description=""):
        code = base64.b64decode(zip_b64) if zip_b64 else b""
        latest = {
            "Version": "$LATEST", "Code": code, "Description": description, "Handler": handler, "Runtime": runtime,
            "MemorySize": 128, "Timeout": 3, "Environment": {"Variables": []}, "Status": "Active",
            "AddTime": now_text(), "ModTime": now_text(), "Reads": 0,
        }
        self.functions[(region, namespace, name)] = {"latest": latest, "versions": {}, "next": 1, "aliases": {}, "triggers": []}

    # --- actions -------------------------------------------------------
    def CreateFunction(self, p):
        key = (self.region, p.get("Namespace") or "default", p["FunctionName"])
        if key in self.functions:
            raise ApiError("ResourceInUse.FunctionName", f"function {key[2]} already exists")
        self.create(key[0], key[1], key[2], p["Code"].get("ZipFile", ""), p.get("Handler", "index.main_handler"), p.get("Runtime", "Python3.9"), p.get("Description", ""))
        return {}

    def GetFunction(self, p):
        f = self.function(p)
        v = self.version(f, p.get("Qualifier") or "$LATEST")
        if v is f["latest"] and v["Status"] == "Updating":
            # An update takes effect after a moment: the second read sees it done.
            v["Reads"] += 1
            if v["Reads"] > 1:
                v["Status"] = "Active"
        return {
            "FunctionName": p["FunctionName"], "Namespace": p.get("Namespace") or "default",
            "FunctionVersion": v["Version"], "Qualifier": v["Version"], "Status": v["Status"],
            "CodeSize": len(v["Code"]), "Description": v["Description"], "Handler": v["Handler"],
            "Runtime": v["Runtime"], "MemorySize": v["MemorySize"], "Timeout": v["Timeout"],
            "Environment": v["Environment"], "AddTime": v["AddTime"], "ModTime": v["ModTime"],
            "Type": "Event",
        }

    def version(self, f, qualifier):
        if qualifier == "$LATEST":
            return f["latest"]
        if qualifier in f["versions"]:
            return f["versions"][qualifier]
        raise ApiError("ResourceNotFound.FunctionVersion", f"version {qualifier} does not exist")

    def UpdateFunctionCode(self, p):
        f = self.function(p)
        if "ZipFile" not in p:
            raise ApiError("InvalidParameterValue.Code", "this double takes the code as ZipFile only")
        try:
            code = base64.b64decode(p["ZipFile"], validate=True)
        except Exception:
            raise ApiError("InvalidParameterValue.ZipFile", "ZipFile is not base64")
        if code[:2] != b"PK":
            raise ApiError("InvalidParameterValue.ZipFile", "ZipFile is not a zip archive")
        latest = f["latest"]
        if latest["Status"] != "Active":
            raise ApiError("FailedOperation.UpdateFunctionCode", f"the function's status is {latest['Status']}: wait until it is Active")
        latest.update(Code=code, Status="Updating", Reads=0, ModTime=now_text())
        if "Handler" in p:
            latest["Handler"] = p["Handler"]
        return {}

    def UpdateFunctionConfiguration(self, p):
        f = self.function(p)
        latest = f["latest"]
        if latest["Status"] != "Active":
            raise ApiError("FailedOperation.UpdateFunctionConfiguration", f"the function's status is {latest['Status']}: wait until it is Active")
        memory = p.get("MemorySize", 128)
        if not isinstance(memory, int) or not (memory == 64 or (128 <= memory <= 3072 and memory % 128 == 0)):
            raise ApiError("InvalidParameterValue.MemorySize", "MemorySize is 64, or 128 to 3072 MB in steps of 128")
        if "Timeout" in p and (not isinstance(p["Timeout"], int) or not 1 <= p["Timeout"] <= 900):
            raise ApiError("InvalidParameterValue.Timeout", "Timeout is 1 to 900 seconds")
        if "Environment" in p:
            variables = p["Environment"].get("Variables") or []
            if any(set(v) != {"Key", "Value"} or not isinstance(v["Value"], str) for v in variables):
                raise ApiError("InvalidParameterValue.Environment", "a variable is {Key, Value}, both strings")
            latest["Environment"] = {"Variables": variables}
        for key in ("MemorySize", "Timeout", "Runtime"):
            if key in p:
                latest[key] = p[key]
        latest.update(Status="Updating", Reads=0, ModTime=now_text())
        return {}

    def PublishVersion(self, p):
        f = self.function(p)
        latest = f["latest"]
        if latest["Status"] != "Active":
            raise ApiError("FailedOperation.PublishVersion", f"the function's status is {latest['Status']}: wait until it is Active")
        number = str(f["next"])
        f["next"] += 1
        version = dict(latest, Version=number, Description=p.get("Description", ""), AddTime=now_text(), ModTime=now_text())
        f["versions"][number] = version
        return {
            "FunctionVersion": number, "CodeSize": len(version["Code"]), "MemorySize": version["MemorySize"],
            "Description": version["Description"], "Handler": version["Handler"], "Timeout": version["Timeout"],
            "Runtime": version["Runtime"], "Namespace": p.get("Namespace") or "default",
        }

    def ListVersionByFunction(self, p):
        f = self.function(p)
        offset, limit = p.get("Offset", 0), p.get("Limit", 20)
        if not isinstance(offset, int) or not isinstance(limit, int) or offset < 0 or not 0 < limit <= 100:
            raise ApiError("InvalidParameterValue.Limit", "Offset must be at least 0 and Limit between 1 and 100")
        ordered = [f["latest"]] + [f["versions"][k] for k in sorted(f["versions"], key=int)]
        if p.get("Order") == "DESC":
            ordered = ordered[:1] + ordered[1:][::-1]
        page = ordered[offset:offset + limit]
        return {
            "FunctionVersion": [v["Version"] for v in page],
            "Versions": [{"Version": v["Version"], "Description": v["Description"], "AddTime": v["AddTime"], "ModTime": v["ModTime"], "Status": v["Status"]} for v in page],
            "TotalCount": len(ordered),
        }

    def alias_view(self, name, a):
        return {"FunctionVersion": a["FunctionVersion"], "Name": name, "RoutingConfig": a["RoutingConfig"], "Description": a["Description"], "AddTime": a["AddTime"], "ModTime": a["ModTime"]}

    def GetAlias(self, p):
        f = self.function(p)
        if p["Name"] not in f["aliases"]:
            raise ApiError("ResourceNotFound.Alias", f"alias {p['Name']} does not exist")
        return self.alias_view(p["Name"], f["aliases"][p["Name"]])

    def ListAliases(self, p):
        f = self.function(p)
        aliases = [self.alias_view(n, a) for n, a in sorted(f["aliases"].items())]
        if p.get("FunctionVersion"):
            aliases = [a for a in aliases if a["FunctionVersion"] == p["FunctionVersion"]]
        offset, limit = p.get("Offset", 0), p.get("Limit", 20)
        return {"Aliases": aliases[offset:offset + limit], "TotalCount": len(aliases)}

    def routing(self, f, primary, config):
        """Check a RoutingConfig as SCF does; return it as GetAlias shows it."""
        config = config or {}
        unknown = set(config) - {"AdditionalVersionWeights", "AddtionVersionMatchs"}
        if unknown:
            raise ApiError("UnknownParameter", f"RoutingConfig has no {sorted(unknown)[0]}")
        weights = config.get("AdditionalVersionWeights") or []
        matchs = config.get("AddtionVersionMatchs") or []
        if len(weights) + len(matchs) > 1:
            raise ApiError("InvalidParameterValue.RoutingConfig", "an alias routes to at most one additional version, by weight or by rule")
        self.version(f, primary)
        for w in weights:
            if set(w) != {"Version", "Weight"} or not isinstance(w["Weight"], (int, float)) or not 0 <= w["Weight"] < 1:
                raise ApiError("InvalidParameterValue.RoutingConfig", "a version weight is {Version, Weight} with 0 <= Weight < 1")
        for m in matchs:
            if set(m) != {"Version", "Key", "Method", "Expression"}:
                raise ApiError("InvalidParameterValue.RoutingConfig", "a version match is {Version, Key, Method, Expression}")
            if not m["Key"].startswith("invoke.headers.") or len(m["Key"]) == len("invoke.headers."):
                raise ApiError("InvalidParameterValue.RoutingConfig", "a match key is invoke.headers.NAME")
            if m["Method"] == "range":
                e = m["Expression"]
                ends = e[:1] in "[(" and e[-1:] in "])"
                parts = e[1:-1].split(",") if ends else []
                if len(parts) != 2 or not all(x.strip().lstrip("-").isdigit() for x in parts) or int(parts[0]) > int(parts[1]):
                    raise ApiError("InvalidParameterValue.RoutingConfig", "a range expression is [a,b] or (a,b) with integers a <= b")
            elif m["Method"] != "exact" or not m["Expression"]:
                raise ApiError("InvalidParameterValue.RoutingConfig", "a match method is exact (with an expression) or range")
        for extra in weights + matchs:
            if extra["Version"] == primary:
                raise ApiError("InvalidParameterValue.RoutingConfig", "the additional version cannot be the alias's main version")
            self.version(f, extra["Version"])
        return {"AdditionalVersionWeights": weights, "AddtionVersionMatchs": matchs}

    def CreateAlias(self, p):
        f = self.function(p)
        if p["Name"] in f["aliases"]:
            raise ApiError("ResourceInUse.Alias", f"alias {p['Name']} already exists")
        routing = self.routing(f, p["FunctionVersion"], p.get("RoutingConfig"))
        f["aliases"][p["Name"]] = {"FunctionVersion": p["FunctionVersion"], "RoutingConfig": routing, "Description": p.get("Description", ""), "AddTime": now_text(), "ModTime": now_text()}
        return {}

    def UpdateAlias(self, p):
        f = self.function(p)
        if p["Name"] not in f["aliases"]:
            raise ApiError("ResourceNotFound.Alias", f"alias {p['Name']} does not exist")
        routing = self.routing(f, p["FunctionVersion"], p.get("RoutingConfig"))
        alias = f["aliases"][p["Name"]]
        alias.update(FunctionVersion=p["FunctionVersion"], RoutingConfig=routing, ModTime=now_text())
        if "Description" in p:
            alias["Description"] = p["Description"]
        return {}

    def DeleteFunction(self, p):
        f = self.function(p)
        qualifier = p.get("Qualifier")
        if not qualifier or qualifier == "$LATEST":
            raise ApiError("UnsupportedOperation", "this double deletes published versions only")
        self.version(f, qualifier)
        for name, a in f["aliases"].items():
            routed = [a["FunctionVersion"]] + [x["Version"] for x in a["RoutingConfig"]["AdditionalVersionWeights"] + a["RoutingConfig"]["AddtionVersionMatchs"]]
            if qualifier in routed:
                raise ApiError("ResourceInUse.Alias", f"version {qualifier} is used by alias {name}")
        del f["versions"][qualifier]
        return {}

    def CreateTrigger(self, p):
        f = self.function(p)
        qualifier = p.get("Qualifier") or "$DEFAULT"
        if qualifier not in ("$DEFAULT", "$LATEST") and qualifier not in f["aliases"]:
            self.version(f, qualifier)
        if any(t["TriggerName"] == p["TriggerName"] and t["Type"] == p["Type"] for t in f["triggers"]):
            raise ApiError("ResourceInUse.Trigger", f"trigger {p['TriggerName']} already exists")
        trigger = {
            "Enable": 1 if p.get("Enable", "OPEN") == "OPEN" else 0, "Qualifier": qualifier, "TriggerName": p["TriggerName"],
            "Type": p["Type"], "TriggerDesc": p.get("TriggerDesc", ""), "AvailableStatus": "Available", "CustomArgument": p.get("CustomArgument", ""),
            "AddTime": now_text(), "ModTime": now_text(), "ResourceId": "", "BindStatus": "", "TriggerAttribute": "", "Description": p.get("Description", ""),
        }
        f["triggers"].append(trigger)
        return {"TriggerInfo": dict(trigger)}

    def ListTriggers(self, p):
        f = self.function(p)
        offset, limit = p.get("Offset", 0), p.get("Limit", 20)
        if not isinstance(offset, int) or not isinstance(limit, int) or offset < 0 or not 0 < limit <= 100:
            raise ApiError("InvalidParameterValue.Limit", "Offset must be at least 0 and Limit between 1 and 100")
        page = f["triggers"][offset:offset + limit]
        return {"Triggers": [dict(t, BoundResources="") for t in page], "TotalCount": len(f["triggers"])}

    def InvokeFunction(self, p):
        f = self.function(p)
        qualifier = p.get("Qualifier") or "$LATEST"
        if qualifier in f["aliases"]:
            qualifier = f["aliases"][qualifier]["FunctionVersion"]
        v = self.version(f, qualifier)
        event = p.get("Event") or "{}"
        try:
            json.loads(event)
        except ValueError:
            raise ApiError("InvalidParameterValue.Event", "Event must be JSON")
        with tempfile.TemporaryDirectory() as code:
            zipfile.ZipFile(io.BytesIO(v["Code"])).extractall(code)
            ran = subprocess.run([sys.executable, "-c", RUNNER, code, v["Handler"], event], capture_output=True, text=True, timeout=30)
        try:
            outcome = json.loads(ran.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            outcome = {"error": (ran.stderr or "the handler printed nothing")[-300:]}
        failed = "error" in outcome
        return {"Result": {
            "Log": "", "RetMsg": "" if failed else json.dumps(outcome["ret"]), "ErrMsg": outcome.get("error", ""),
            "MemUsage": 0, "Duration": 1.0, "BillDuration": 1, "FunctionRequestId": str(uuid.uuid4()),
            "InvokeResult": -1 if failed else 0,
        }}

    def GetMonitorData(self, p):
        if p["Namespace"] != "QCE/SCF_V2":
            raise ApiError("InvalidParameterValue", f"namespace {p['Namespace']} is not one this double serves")
        if p["MetricName"] not in SCF_METRICS:
            raise ApiError("InvalidParameterValue", f"metric {p['MetricName']} does not exist in QCE/SCF_V2")
        period = p.get("Period", 300)
        if period not in (60, 300):
            raise ApiError("InvalidParameterValue", "Period must be 60 or 300")
        try:
            start = datetime.fromisoformat(p["StartTime"]).timestamp() if "StartTime" in p else 0
            end = datetime.fromisoformat(p["EndTime"]).timestamp() if "EndTime" in p else time.time()
        except ValueError:
            raise ApiError("InvalidParameterValue", "StartTime and EndTime are ISO 8601 times with an offset")
        if end < start:
            raise ApiError("InvalidParameterValue", "EndTime is before StartTime")
        points = []
        for instance in p["Instances"]:
            dims = {d["Name"]: d["Value"] for d in instance.get("Dimensions", [])}
            if "functionName" not in dims or "version" not in dims:
                raise ApiError("InvalidParameterValue", "an SCF instance names functionName and version")
            key = (self.region, dims.get("namespace", "default"), dims["functionName"], dims["version"], p["MetricName"])
            minutes = self.metrics.get(key, {})
            # Whole minutes whose start lies in the window, grouped by period.
            buckets = {}
            for minute in sorted(minutes):
                if start - 60 < minute <= end:
                    buckets.setdefault(minute - minute % period, []).extend(minutes[minute])
            stamps = sorted(buckets)
            combine = sum if SCF_METRICS[p["MetricName"]] == "sum" else (lambda v: sum(v) / len(v))
            points.append({
                "Dimensions": [{"Name": n, "Value": v} for n, v in dims.items()],
                "Timestamps": [float(t) for t in stamps],
                "Values": [float(combine(buckets[t])) for t in stamps],
            })
        return {"Period": period, "MetricName": p["MetricName"], "DataPoints": points,
                "StartTime": p.get("StartTime", ""), "EndTime": p.get("EndTime", ""), "Msg": ""}

    def put_metric(self, rule):
        if rule["metric"] not in SCF_METRICS:
            raise ApiError("InvalidParameterValue", f"metric {rule['metric']} does not exist in QCE/SCF_V2")
        key = (rule.get("region", DEFAULT_REGION), rule.get("namespace", "default"), rule["function"], rule["version"], rule["metric"])
        minute = int(time.time()) // 60 * 60
        with self.lock:
            self.metrics.setdefault(key, {}).setdefault(minute, []).append(rule["value"])

    def call(self, action, params, region=DEFAULT_REGION):
        with self.lock:
            self.region = region
            failure = self.failures.get(action)
            if failure and failure["times"] > 0 and failure.get("region", region) == region:
                failure["times"] -= 1
                if failure.get("lose"):
                    # The request lands; only its answer is lost.
                    getattr(self, action)(params)
                raise ApiError(failure["code"], failure["message"])
            answer = getattr(self, action)(params)
            then = self.after.pop(action, None)
            if then:
                try:
                    getattr(self, then["action"])(then["params"])
                except ApiError as e:
                    # The test set up a write that cannot happen: say so
                    # (the Rust tests fail on this code) rather than hide it.
                    raise ApiError("TestHookFailed", f"the test's other writer failed: {e.code}: {e.message}")
            return answer

    def state(self):
        with self.lock:
            out = {}
            for (region, ns, name), f in self.functions.items():
                versions = {}
                for v in [f["latest"]] + list(f["versions"].values()):
                    versions[v["Version"]] = {
                        "Description": v["Description"], "Status": v["Status"], "CodeSize": len(v["Code"]),
                        "CodeSha256": hashlib.sha256(v["Code"]).hexdigest(), "Handler": v["Handler"],
                        "MemorySize": v["MemorySize"], "Timeout": v["Timeout"], "Runtime": v["Runtime"],
                        "Environment": v["Environment"],
                    }
                where = f"{ns}/{name}" if region == DEFAULT_REGION else f"{region}/{ns}/{name}"
                out[where] = {"versions": versions, "aliases": {n: self.alias_view(n, a) for n, a in f["aliases"].items()}}
            return out


def canonical_value(name, value):
    value = value.strip()
    return value.lower() if name == "x-tc-action" else value


class Handler(BaseHTTPRequestHandler):
    scf = None
    secret_id = None
    secret_key = None
    token = None

    def log_message(self, *args):
        pass

    def reply(self, body, status=200):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/__test/state":
            return self.reply(self.scf.state())
        if self.path == "/__test/requests":
            with self.scf.lock:
                return self.reply(list(self.scf.requests))
        self.reply({"error": "not found"}, 404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/__test/after":
            rule = json.loads(body)
            with self.scf.lock:
                self.scf.after[rule["action"]] = rule["then"]
            return self.reply({})
        if self.path == "/__test/call":
            rule = json.loads(body)
            try:
                answer = self.scf.call(rule["action"], rule["params"], rule.get("region", DEFAULT_REGION))
            except ApiError as e:
                answer = {"Error": {"Code": e.code, "Message": e.message}}
            return self.reply(answer)
        if self.path == "/__test/metrics":
            try:
                self.scf.put_metric(json.loads(body))
                return self.reply({})
            except ApiError as e:
                return self.reply({"error": e.message}, 400)
        if self.path == "/__test/fail":
            rule = json.loads(body)
            with self.scf.lock:
                message = rule.get("message", "injected by the test")
                self.scf.failures[rule["action"]] = {"code": rule["code"], "times": rule["times"], "message": message, "lose": rule.get("lose", False)}
                if "region" in rule:
                    self.scf.failures[rule["action"]]["region"] = rule["region"]
            return self.reply({})
        request_id = str(uuid.uuid4())
        with self.scf.lock:
            self.scf.requests.append({"action": self.headers.get("X-TC-Action", ""), "region": self.headers.get("X-TC-Region", ""), "at": time.monotonic()})
        try:
            action, params = self.check(body)
            answer = self.scf.call(action, params, self.headers.get("X-TC-Region"))
            answer["RequestId"] = request_id
            self.reply({"Response": answer})
        except ApiError as e:
            self.reply({"Response": {"Error": {"Code": e.code, "Message": e.message}, "RequestId": request_id}})

    def check(self, body):
        """The request as the API checks it: path, signature, action, parameters."""
        if self.path != "/":
            raise ApiError("InvalidParameter", f"the API is served at /, not {self.path}")
        action = self.headers.get("X-TC-Action", "")
        version = self.headers.get("X-TC-Version")
        if version not in APIS:
            raise ApiError("NoSuchVersion", f"version {version} of SCF's API does not exist")
        service, actions = APIS[version]
        if not self.headers.get("X-TC-Region"):
            raise ApiError("MissingParameter", "X-TC-Region is missing")
        self.check_signature(service, body)
        if action not in actions:
            raise ApiError("InvalidAction", f"action {action} does not exist")
        if not self.headers.get("Content-Type", "").startswith("application/json"):
            raise ApiError("InvalidParameter", "the body must be application/json")
        try:
            params = json.loads(body or b"{}")
        except ValueError:
            raise ApiError("InvalidParameter", "the body is not JSON")
        required, optional = actions[action]
        for name in params:
            if name not in required and name not in optional:
                raise ApiError("UnknownParameter", f"the parameter {name} is not recognized")
        for name in required:
            if name not in params:
                raise ApiError("MissingParameter", f"the parameter {name} is missing")
        return action, params

    def check_signature(self, service_asked, body):
        auth = self.headers.get("Authorization", "")
        try:
            algorithm, rest = auth.split(" ", 1)
            fields = dict(part.strip().split("=", 1) for part in rest.split(","))
            secret_id, date, service, terminator = fields["Credential"].split("/")
            signed = fields["SignedHeaders"].split(";")
            signature = fields["Signature"]
        except (ValueError, KeyError):
            raise ApiError("AuthFailure.InvalidAuthorization", "the Authorization header is malformed")
        if algorithm != "TC3-HMAC-SHA256" or terminator != "tc3_request" or service != service_asked:
            raise ApiError("AuthFailure.InvalidAuthorization", f"expected TC3-HMAC-SHA256 for service {service_asked}")
        if "content-type" not in signed or "host" not in signed or signed != sorted(signed):
            raise ApiError("AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type and host, in order")
        if secret_id != self.secret_id:
            raise ApiError("AuthFailure.SecretIdNotFound", "the SecretId does not exist")
        try:
            timestamp = int(self.headers.get("X-TC-Timestamp", ""))
        except ValueError:
            raise ApiError("MissingParameter", "X-TC-Timestamp is missing")
        if abs(time.time() - timestamp) > 300:
            raise ApiError("AuthFailure.SignatureExpire", "the signature has expired")
        if datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d") != date:
            raise ApiError("AuthFailure.InvalidAuthorization", "the credential's date is not the timestamp's")
        if self.token is not None and self.headers.get("X-TC-Token") != self.token:
            raise ApiError("AuthFailure.TokenFailure", "the token is missing or wrong")
        headers = "".join(f"{name}:{canonical_value(name, self.headers.get(name, ''))}\n" for name in signed)
        canonical = "\n".join(["POST", "/", "", headers, ";".join(signed), hashlib.sha256(body).hexdigest()])
        to_sign = "\n".join(["TC3-HMAC-SHA256", str(timestamp), f"{date}/{service}/tc3_request", hashlib.sha256(canonical.encode()).hexdigest()])

        def mac(key, msg):
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()

        key = mac(mac(mac(("TC3" + self.secret_key).encode(), date), service), "tc3_request")
        if not hmac.compare_digest(hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest(), signature):
            raise ApiError("AuthFailure.SignatureFailure", "the signature does not match")


def main(argv):
    args = argv[1:]
    Handler.secret_id, Handler.secret_key = args[0], args[1]
    Handler.scf = Scf()
    rest = args[2:]
    while rest:
        flag, value, rest = rest[0], rest[1], rest[2:]
        if flag == "--token":
            Handler.token = value
        elif flag == "--function":
            parts = value.split("/")
            region = parts[0] if len(parts) == 3 else DEFAULT_REGION
            Handler.scf.create(region, parts[-2], parts[-1])
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv)
