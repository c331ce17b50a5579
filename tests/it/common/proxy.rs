//! A fault-injecting HTTP proxy between the binary and the emulator: the
//! binary's `AWS_ENDPOINT_URL` points here, every request is forwarded to moto
//! unchanged, and a seed decides which requests meet a fault instead — HTTP 429
//! (throttling), 500/503, a connection reset before or after moto has carried
//! the request out, or a slow answer. The same seed gives the same faults for
//! the same requests, whatever order concurrent requests arrive in.
//!
//! It can also stop at the k-th mutating request (before or after forwarding
//! it) and tell the test, which then kills the binary with SIGKILL: a crash at
//! a precise point of a deploy, with no test-only code in the binary.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    Throttle,
    ServerError,
    Unavailable,
    /// Dropped before moto saw it.
    ResetBefore,
    /// Carried out by moto, then the connection dropped: the answer is lost.
    ResetAfter,
    Slow,
}

const FAULTS: [Fault; 6] = [
    Fault::Throttle,
    Fault::ServerError,
    Fault::Unavailable,
    Fault::ResetBefore,
    Fault::ResetAfter,
    Fault::Slow,
];

/// Where to stop a run: at the k-th (1-based) mutating request, before or
/// after forwarding it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crash {
    Before(usize),
    After(usize),
}

struct Settings {
    seed: u64,
    /// Share of requests that meet a fault.
    rate: f64,
    crash: Option<Crash>,
}

struct Shared {
    upstream: String,
    settings: Mutex<Settings>,
    /// Occurrences of each (method, path) so far, for per-request decisions.
    seen: Mutex<HashMap<String, u64>>,
    mutating: AtomicUsize,
    /// Faults injected so far, by kind.
    injected: Mutex<HashMap<Fault, usize>>,
    /// Mutating requests forwarded to moto: (method, path).
    forwarded: Mutex<Vec<(String, String)>>,
    crash_signal: Mutex<Sender<()>>,
    crash_ack: Mutex<Receiver<()>>,
    stopped: AtomicBool,
    /// Mutating requests whose path ends so are refused the way Lambda
    /// refuses variables over 4 KB: a 400 whose message quotes them.
    refuse_quoting: Mutex<Option<String>>,
    /// (method, path start) pairs answered 403 `AccessDeniedException`, as
    /// AWS answers a caller whose policy lacks the action.
    denied: Mutex<Vec<(String, String)>>,
    /// Lambda's control-plane quota, when set: at most this many requests
    /// in any one second per account and region, no burst.
    quota: Mutex<Option<Quota>>,
    /// One region throttled until another has made progress.
    hold: Mutex<Option<Hold>>,
    /// The account of each assumed role's access key, learnt from the
    /// `sts:AssumeRole` calls that went through: the quota is the
    /// account-region's, however many roles (keys) reach it.
    accounts: Mutex<HashMap<String, String>>,
    /// `METHOD path-end` → (which occurrence to hold, how long): that
    /// request reaches the emulator only after the delay, and its answer
    /// comes after that (a write in flight).
    delays: Mutex<HashMap<String, (usize, Duration)>>,
    /// Occurrences of each delayed rule so far, and how many delays began.
    delay_seen: Mutex<HashMap<String, usize>>,
    delays_begun: AtomicUsize,
    /// `sts:AssumeRole` calls that went through.
    assume_role_calls: AtomicUsize,
}

/// [`FaultProxy::throttle_region_until`]'s state.
struct Hold {
    region: String,
    until_region: String,
    writes: usize,
    written: usize,
    throttled: usize,
}

/// Lambda's per-account-region control-plane quota as the proxy enforces it.
#[derive(Default)]
struct Quota {
    per_second: usize,
    /// Arrival times of the calls let through, by account-region (the
    /// credential's access key and the region of its SigV4 scope).
    passed: HashMap<String, Vec<std::time::Instant>>,
    throttled: usize,
}

pub struct FaultProxy {
    pub endpoint: String,
    shared: Arc<Shared>,
    /// Signalled when a crash point is reached; answer with [`FaultProxy::killed`].
    pub crashes: Receiver<()>,
    ack: Sender<()>,
}

impl FaultProxy {
    /// A proxy on a free port of 127.0.0.1 in front of `upstream` (an `http://host:port`).
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let (signal, crashes) = channel();
        let (ack, acks) = channel();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_start_matches("http://").to_string(),
            settings: Mutex::new(Settings {
                seed: 0,
                rate: 0.0,
                crash: None,
            }),
            seen: Mutex::new(HashMap::new()),
            mutating: AtomicUsize::new(0),
            injected: Mutex::new(HashMap::new()),
            forwarded: Mutex::new(Vec::new()),
            crash_signal: Mutex::new(signal),
            crash_ack: Mutex::new(acks),
            stopped: AtomicBool::new(false),
            refuse_quoting: Mutex::new(None),
            denied: Mutex::new(Vec::new()),
            accounts: Mutex::new(HashMap::new()),
            delays: Mutex::new(HashMap::new()),
            delay_seen: Mutex::new(HashMap::new()),
            delays_begun: AtomicUsize::new(0),
            assume_role_calls: AtomicUsize::new(0),
            quota: Mutex::new(None),
            hold: Mutex::new(None),
        });
        let accepting = Arc::clone(&shared);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accepting);
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        FaultProxy {
            endpoint,
            shared,
            crashes,
            ack,
        }
    }

    /// Faults for the next run: `rate` of the requests, chosen by `seed`; and
    /// maybe a crash point. Counters start again from zero.
    pub fn arm(&self, seed: u64, rate: f64, crash: Option<Crash>) {
        *self.shared.settings.lock().unwrap() = Settings { seed, rate, crash };
        self.shared.seen.lock().unwrap().clear();
        self.shared.injected.lock().unwrap().clear();
        self.shared.forwarded.lock().unwrap().clear();
        self.shared.mutating.store(0, Ordering::SeqCst);
    }

    /// From now on, refuse every mutating request whose path ends with
    /// `path_end` as Lambda refuses variables over its 4 KB limit: HTTP 400
    /// `InvalidParameterValueException` whose message quotes the request's
    /// `Environment.Variables`, values included.
    pub fn refuse_quoting(&self, path_end: &str) {
        *self.shared.refuse_quoting.lock().unwrap() = Some(path_end.to_string());
    }

    /// From now on, answer `method` requests whose path (query left out)
    /// ends with `path_end` with 403 `AccessDeniedException`, as AWS answers a
    /// caller whose policy lacks `action`.
    pub fn deny(&self, method: &str, path_end: &str, action: &str) {
        self.shared
            .denied
            .lock()
            .unwrap()
            .push((format!("{method} {path_end}"), action.to_string()));
    }

    /// Hold the `nth` (1-based) `method` request whose path ends with
    /// `path_end` for `delay` before it reaches the emulator: a write in
    /// flight that long.
    pub fn delay(&self, method: &str, path_end: &str, nth: usize, delay: Duration) {
        self.shared
            .delays
            .lock()
            .unwrap()
            .insert(format!("{method} {path_end}"), (nth, delay));
    }

    /// How many `sts:AssumeRole` calls went through.
    pub fn assume_role_calls(&self) -> usize {
        self.shared.assume_role_calls.load(Ordering::SeqCst)
    }

    /// How many delayed requests have begun their delay.
    pub fn delays_begun(&self) -> usize {
        self.shared.delays_begun.load(Ordering::SeqCst)
    }

    /// [`FaultProxy::deny`], only for requests signed for `region`.
    pub fn deny_in(&self, region: &str, method: &str, path_end: &str, action: &str) {
        self.shared
            .denied
            .lock()
            .unwrap()
            .push((format!("{method} {path_end} {region}"), action.to_string()));
    }

    /// Enforce Lambda's control-plane quota from now on: at most
    /// `per_second` calls in any one second per account-region, with no
    /// burst; a call over it is answered 429 `TooManyRequestsException` with
    /// `retryAfterSeconds`, as Lambda answers. `GetPolicy` has a bucket of its
    /// own of `per_second`, as in AWS; `GetFunction` (its own quota of
    /// 100/s) is not counted.
    pub fn enforce_quota(&self, per_second: usize) {
        *self.shared.quota.lock().unwrap() = Some(Quota {
            per_second,
            ..Quota::default()
        });
    }

    /// From now on, answer every Lambda control-plane call of `region` with
    /// 429 `TooManyRequestsException` (`retryAfterSeconds` 1), as Lambda
    /// answers an account-region over its quota, until `writes` alias writes
    /// (create or update) of `until_region` have reached the emulator.
    pub fn throttle_region_until(&self, region: &str, until_region: &str, writes: usize) {
        *self.shared.hold.lock().unwrap() = Some(Hold {
            region: region.to_string(),
            until_region: until_region.to_string(),
            writes,
            written: 0,
            throttled: 0,
        });
    }

    /// Under [`FaultProxy::throttle_region_until`]: the calls of the held
    /// region throttled, and the alias writes of the other region that
    /// reached the emulator.
    pub fn hold_seen(&self) -> (usize, usize) {
        let hold = self.shared.hold.lock().unwrap();
        let hold = hold.as_ref().expect("throttle_region_until first");
        (hold.throttled, hold.written)
    }

    /// Under [`FaultProxy::enforce_quota`]: the calls throttled, and the most
    /// calls any account-region had let through within one second.
    pub fn quota_seen(&self) -> (usize, usize) {
        let quota = self.shared.quota.lock().unwrap();
        let quota = quota.as_ref().expect("enforce_quota first");
        let busiest = quota
            .passed
            .values()
            .map(|times| {
                (0..times.len())
                    .map(|i| {
                        times[i..]
                            .iter()
                            .take_while(|t| t.duration_since(times[i]) < Duration::from_secs(1))
                            .count()
                    })
                    .max()
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0);
        (quota.throttled, busiest)
    }

    /// Faults injected since [`FaultProxy::arm`], by kind.
    pub fn injected(&self) -> HashMap<Fault, usize> {
        self.shared.injected.lock().unwrap().clone()
    }

    /// Mutating requests moto received since [`FaultProxy::arm`].
    pub fn forwarded(&self) -> Vec<(String, String)> {
        self.shared.forwarded.lock().unwrap().clone()
    }

    /// Tell the proxy the binary is dead: the held request is then dropped.
    pub fn killed(&self) {
        self.ack.send(()).unwrap();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.endpoint.trim_start_matches("http://"));
    }
}

/// One request as read off the wire.
struct Request {
    method: String,
    path: String,
    head: Vec<String>,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut head = vec![line.trim_end().to_string()];
    let mut length = 0usize;
    let mut expect_continue = false;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end().to_string();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
            if name.eq_ignore_ascii_case("connection") {
                continue;
            }
            if name.eq_ignore_ascii_case("expect") {
                expect_continue = value.trim().eq_ignore_ascii_case("100-continue");
                continue;
            }
            assert!(
                !name.eq_ignore_ascii_case("transfer-encoding"),
                "the proxy forwards Content-Length bodies only"
            );
        }
        head.push(header);
    }
    if expect_continue {
        reader
            .get_mut()
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .ok()?;
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        head,
        body,
    })
}

/// Serve one client connection: one request, then close (the client opens a
/// new connection for the next).
fn serve(client: TcpStream, shared: &Shared) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let Some(request) = read_request(&mut reader) else {
        return;
    };
    let mut client = client;
    let mutating = request.method != "GET" && request.method != "HEAD";
    let number = if mutating {
        shared.mutating.fetch_add(1, Ordering::SeqCst) + 1
    } else {
        0
    };
    let path = request.path.split('?').next().unwrap_or_default();
    if held(shared, &request, path) || over_quota(shared, &request, path) {
        return answer(
            &mut client,
            "429 Too Many Requests",
            "TooManyRequestsException",
            r#"{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded","retryAfterSeconds":"1"}"#,
        );
    }
    let denied = shared.denied.lock().unwrap().iter().find_map(|(rule, action)| {
        let mut words = rule.split(' ');
        let (method, end, region) = (words.next()?, words.next()?, words.next());
        (request.method == method && path.ends_with(end) && region.is_none_or(|r| scope(&request).1 == r))
            .then(|| action.clone())
    });
    if let Some(action) = denied {
        let message = format!(
            "User: arn:aws:sts::123456789012:assumed-role/deployer/ci is not authorized to perform: {action} because no identity-based policy allows the {action} action"
        );
        let body = serde_json::json!({"Type": "User", "Message": message}).to_string();
        return answer(&mut client, "403 Forbidden", "AccessDeniedException", &body);
    }
    let refused = shared.refuse_quoting.lock().unwrap().clone();
    if mutating && refused.is_some_and(|end| request.path.ends_with(&end)) {
        let sent: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let quoted = sent
            .pointer("/Environment/Variables")
            .cloned()
            .unwrap_or_default();
        let message = format!(
            "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: {quoted}"
        );
        let body = serde_json::json!({"Type": "User", "message": message}).to_string();
        return answer(
            &mut client,
            "400 Bad Request",
            "InvalidParameterValueException",
            &body,
        );
    }
    let (crash, fault) = decide(shared, &request, number);
    if crash == Some(Crash::Before(number)) {
        stop_here(shared, &client);
        return;
    }
    match fault {
        Some(Fault::Throttle) => {
            return answer(
                &mut client,
                "429 Too Many Requests",
                "TooManyRequestsException",
                r#"{"Reason":"CallerRateLimitExceeded","Type":"User","message":"Rate exceeded"}"#,
            );
        }
        Some(Fault::ServerError) => {
            return answer(
                &mut client,
                "500 Internal Server Error",
                "ServiceException",
                r#"{"Type":"Service","message":"injected internal error"}"#,
            );
        }
        Some(Fault::Unavailable) => {
            return answer(
                &mut client,
                "503 Service Unavailable",
                "ServiceException",
                r#"{"Type":"Service","message":"injected unavailability"}"#,
            );
        }
        Some(Fault::ResetBefore) => return reset(&client),
        Some(Fault::Slow) => std::thread::sleep(Duration::from_millis(300 + request.body.len() as u64 % 700)),
        _ => {}
    }
    hold_if_delayed(shared, &request, path);
    let response = forward(shared, &request);
    learn_account(shared, &request, &response);
    if mutating && path.contains("/aliases") {
        let region = scope(&request).1;
        if let Some(hold) = shared
            .hold
            .lock()
            .unwrap()
            .as_mut()
            .filter(|h| h.until_region == region)
        {
            hold.written += 1;
        }
    }
    if mutating {
        shared
            .forwarded
            .lock()
            .unwrap()
            .push((request.method.clone(), request.path.clone()));
    }
    if crash == Some(Crash::After(number)) {
        stop_here(shared, &client);
        return;
    }
    if fault == Some(Fault::ResetAfter) {
        return reset(&client);
    }
    let _ = client.write_all(&response);
    let _ = client.shutdown(Shutdown::Both);
}

/// Sleep before forwarding when `request` is the occurrence a delay rule holds.
fn hold_if_delayed(shared: &Shared, request: &Request, path: &str) {
    let rule = shared.delays.lock().unwrap().iter().find_map(|(rule, hold)| {
        let (method, end) = rule.split_once(' ')?;
        (request.method == method && path.ends_with(end)).then(|| (rule.clone(), *hold))
    });
    let Some((rule, (nth, delay))) = rule else {
        return;
    };
    let occurrence = {
        let mut seen = shared.delay_seen.lock().unwrap();
        let count = seen.entry(rule).or_insert(0);
        *count += 1;
        *count
    };
    if occurrence == nth {
        shared.delays_begun.fetch_add(1, Ordering::SeqCst);
        std::thread::sleep(delay);
    }
}

/// An `sts:AssumeRole` answer: remember the account its access key acts in
/// (the role ARN's).
fn learn_account(shared: &Shared, request: &Request, response: &[u8]) {
    let body = String::from_utf8_lossy(&request.body);
    if !body.contains("Action=AssumeRole") {
        return;
    }
    shared.assume_role_calls.fetch_add(1, Ordering::SeqCst);
    let Some(account) = body
        .split("iam%3A%3A")
        .nth(1)
        .map(|rest| rest.chars().take(12).collect::<String>())
    else {
        return;
    };
    let answer = String::from_utf8_lossy(response);
    if let Some(key) = answer
        .split("<AccessKeyId>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
    {
        shared.accounts.lock().unwrap().insert(key.to_string(), account);
    }
}

/// The credential's access key and the region of a request's SigV4 scope
/// (`Credential=KEY/DATE/REGION/lambda/aws4_request`): its account-region.
fn scope(request: &Request) -> (String, String) {
    let scope = request
        .head
        .iter()
        .find_map(|h| h.split_once("Credential=").map(|(_, rest)| rest.to_string()))
        .unwrap_or_default();
    let mut parts = scope.split('/');
    let key = parts.next().unwrap_or_default().to_string();
    (key, parts.nth(1).unwrap_or_default().to_string())
}

/// Whether `request` is a Lambda control-plane call of the held region
/// while it is held (see [`FaultProxy::throttle_region_until`]).
fn held(shared: &Shared, request: &Request, path: &str) -> bool {
    let mut hold = shared.hold.lock().unwrap();
    let Some(hold) = hold.as_mut() else {
        return false;
    };
    if !control_plane(request, path) || hold.written >= hold.writes {
        return false;
    }
    let region = scope(request).1;
    if region == hold.region {
        hold.throttled += 1;
        return true;
    }
    false
}

/// Whether `request` is a Lambda call that counts against a quota enforced
/// here: the control plane's, or `GetPolicy`'s own.
fn control_plane(request: &Request, path: &str) -> bool {
    quota_of(request, path).is_some()
}

/// The quota a Lambda call counts against, as AWS counts them: `GetPolicy`
/// has its own (15 per second), `GetFunction` its own (100, not enforced
/// here), and every other control-plane call shares one.
fn quota_of(request: &Request, path: &str) -> Option<&'static str> {
    let lambda = ["/2015-03-31/", "/2017-03-31/", "/2019-09-30/"]
        .iter()
        .any(|api| path.starts_with(api));
    // GET /2015-03-31/functions/NAME, or …/NAME/policy.
    let function_read = request
        .method
        .eq("GET")
        .then(|| path.strip_prefix("/2015-03-31/functions/"))
        .flatten()
        .map(|rest| rest.split('/').collect::<Vec<_>>());
    match function_read.as_deref() {
        _ if !lambda => None,
        Some([_]) => None,
        Some([_, "policy"]) => Some("policy"),
        _ => Some("control"),
    }
}

/// Whether `request` is a Lambda control-plane call over the quota; one
/// within it is counted.
fn over_quota(shared: &Shared, request: &Request, path: &str) -> bool {
    let mut quota = shared.quota.lock().unwrap();
    let Some(quota) = quota.as_mut() else {
        return false;
    };
    let Some(kind) = quota_of(request, path) else {
        return false;
    };
    let (key, region) = scope(request);
    let account = shared.accounts.lock().unwrap().get(&key).cloned().unwrap_or(key);
    let bucket = format!("{account}/{region}/{kind}");
    let now = std::time::Instant::now();
    let times = quota.passed.entry(bucket).or_default();
    let in_last_second = times
        .iter()
        .rev()
        .take_while(|t| now.duration_since(**t) < Duration::from_secs(1))
        .count();
    if in_last_second >= quota.per_second {
        quota.throttled += 1;
        return true;
    }
    times.push(now);
    false
}

/// The crash point (if it is this request) and the fault for this request.
fn decide(shared: &Shared, request: &Request, number: usize) -> (Option<Crash>, Option<Fault>) {
    let settings = shared.settings.lock().unwrap();
    let crash = settings.crash.filter(|c| match c {
        Crash::Before(k) | Crash::After(k) => *k == number,
    });
    let target = format!("{} {}", request.method, request.path);
    let occurrence = {
        let mut seen = shared.seen.lock().unwrap();
        let count = seen.entry(target.clone()).or_insert(0);
        *count += 1;
        *count
    };
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (settings.seed, &target, occurrence).hash(&mut hasher);
    let mut rng = fastrand::Rng::with_seed(hasher.finish());
    let fault = (rng.f64() < settings.rate).then(|| FAULTS[rng.usize(..FAULTS.len())]);
    if let Some(fault) = fault {
        *shared.injected.lock().unwrap().entry(fault).or_insert(0) += 1;
    }
    (crash, fault)
}

/// Tell the test, wait until it has killed the binary, drop the connection.
fn stop_here(shared: &Shared, client: &TcpStream) {
    shared.crash_signal.lock().unwrap().send(()).unwrap();
    let _ = shared
        .crash_ack
        .lock()
        .unwrap()
        .recv_timeout(Duration::from_secs(30));
    reset(client);
}

fn answer(client: &mut TcpStream, status: &str, error_type: &str, body: &str) {
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nx-amzn-ErrorType: {error_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = client.write_all(response.as_bytes());
    let _ = client.shutdown(Shutdown::Both);
}

/// Drop the connection with a TCP reset (no answer at all).
fn reset(client: &TcpStream) {
    let _ = socket2::SockRef::from(client).set_linger(Some(Duration::ZERO));
    let _ = client.shutdown(Shutdown::Both);
}

/// Send the request to moto and read its whole answer (moto closes the
/// connection after it: the request says `Connection: close`).
fn forward(shared: &Shared, request: &Request) -> Vec<u8> {
    let mut upstream = TcpStream::connect(&shared.upstream).expect("the emulator is not reachable");
    let mut head = request.head.join("\r\n");
    head.push_str("\r\nConnection: close\r\n\r\n");
    upstream.write_all(head.as_bytes()).unwrap();
    upstream.write_all(&request.body).unwrap();
    let mut response = Vec::new();
    upstream.read_to_end(&mut response).unwrap();
    // Tell the client too that the connection ends with this answer.
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let mut lines: Vec<&str> = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    lines.push("Connection: close");
    let mut out = lines.join("\r\n").into_bytes();
    out.extend_from_slice(&response[split..]);
    out
}
