//! A fault-injecting HTTP proxy on loopback, between the scanner and the emulator: the faults
//! arrive on the wire, as AWS sends them, so the SDK's own retry, timeout and error parsing
//! are what is tested (aws-smithy-mocks, in faults.rs, bypasses all three).
//!
//! Each connection carries one request (`Connection: close` both ways). At `rate`, a request
//! meets a fault drawn from `kinds`:
//! - `Throttle`: the protocol's throttling error (`ThrottlingException`, `Throttling`, EC2's
//!   `RequestLimitExceeded` with 503);
//! - `ServerError`: a 500 with the protocol's `InternalFailure`;
//! - `Reset`: the connection is dropped with the request unread, so the kernel sends a TCP RST;
//! - `Latency`: the request is forwarded after `latency`.
//!
//! Besides the random faults, `deny` answers one operation with the protocol's access-denied
//! error every time, and `stall` holds one operation's requests for a long time (a timeout).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    Throttle,
    ServerError,
    Reset,
    Latency,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub rate: f64,
    pub kinds: Vec<Fault>,
    pub latency: Duration,
    /// Operation name (`ListApps`, `DescribeVpcEndpoints`) answered with access denied.
    pub deny: Option<String>,
    /// Operation name whose requests are held for `stall_for` before being forwarded.
    pub stall: Option<String>,
    pub stall_for: Duration,
}

impl Plan {
    /// Forwards everything untouched.
    pub fn clean() -> Self {
        Self {
            rate: 0.0,
            kinds: Vec::new(),
            latency: Duration::ZERO,
            deny: None,
            stall: None,
            stall_for: Duration::ZERO,
        }
    }

    /// Every kind of fault at `rate`, with `latency` for the latency faults.
    pub fn faults(rate: f64, latency: Duration) -> Self {
        Self {
            rate,
            kinds: vec![
                Fault::Throttle,
                Fault::ServerError,
                Fault::Reset,
                Fault::Latency,
            ],
            latency,
            ..Self::clean()
        }
    }
}

/// What the proxy saw and did.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub requests: u64,
    pub faults: BTreeMap<String, u64>,
    pub denied: u64,
    pub stalled: u64,
    /// Requests per operation, faulted or not.
    pub operations: BTreeMap<String, u64>,
}

struct Shared {
    upstream: String,
    plan: Mutex<Plan>,
    stats: Mutex<Stats>,
    rng: Mutex<fastrand::Rng>,
}

pub struct FaultProxy {
    pub url: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Listens on a free loopback port and forwards to `upstream` (`host:port`); the random
    /// faults are drawn from a generator seeded with `seed`.
    pub fn start(upstream_url: &str, plan: Plan, seed: u64) -> Self {
        let upstream = upstream_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_string();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let url = format!(
            "http://{}",
            listener.local_addr().expect("the proxy's address")
        );
        let shared = Arc::new(Shared {
            upstream,
            plan: Mutex::new(plan),
            stats: Mutex::new(Stats::default()),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = accepting.clone();
                std::thread::spawn(move || {
                    let _ = serve(&shared, stream);
                });
            }
        });
        Self { url, shared }
    }

    pub fn set_plan(&self, plan: Plan) {
        *self
            .shared
            .plan
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = plan;
    }

    pub fn stats(&self) -> Stats {
        self.shared
            .stats
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The wire protocol of a request, which decides how an injected error is spelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// awsJson1.x: SageMaker, CloudTrail, Organizations (`X-Amz-Target`).
    Json,
    /// awsQuery: IAM, STS.
    Query,
    /// The EC2 query protocol.
    Ec2,
    /// restJson1: EFS.
    RestJson,
}

struct Request {
    head: Vec<String>,
    body: Vec<u8>,
    protocol: Protocol,
    operation: String,
}

fn read_request(stream: &mut BufReader<TcpStream>) -> std::io::Result<Request> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if stream.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let header = |name: &str| {
        head.iter().skip(1).find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    let length: usize = header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    stream.read_exact(&mut body)?;
    let text = String::from_utf8_lossy(&body);
    let param = |name: &str| {
        text.split('&').find_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            (k == name).then(|| v.to_string())
        })
    };
    let (protocol, operation) = if let Some(target) = header("x-amz-target") {
        let op = target.rsplit('.').next().unwrap_or_default().to_string();
        (Protocol::Json, op)
    } else if let Some(action) = param("Action") {
        let ec2 = param("Version").as_deref() == Some("2016-11-15");
        (if ec2 { Protocol::Ec2 } else { Protocol::Query }, action)
    } else {
        let path = head
            .first()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or_default();
        let op = if path.contains("/mount-targets") {
            "DescribeMountTargets"
        } else if path.contains("/file-systems") {
            "DescribeFileSystems"
        } else {
            "unknown"
        };
        (Protocol::RestJson, op.to_string())
    };
    Ok(Request {
        head,
        body,
        protocol,
        operation,
    })
}

/// The protocol's error response: (status, code) spelled as that protocol's clients parse it.
fn error_response(protocol: Protocol, status: u16, code: &str, message: &str) -> Vec<u8> {
    let (content_type, body) = match protocol {
        Protocol::Json | Protocol::RestJson => (
            "application/x-amz-json-1.1",
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        ),
        Protocol::Query => (
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
            ),
        ),
        Protocol::Ec2 => (
            "text/xml",
            format!(
                "<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>"
            ),
        ),
    };
    let reason = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: {code}\r\nx-amzn-RequestId: fault-proxy\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn throttled(protocol: Protocol) -> Vec<u8> {
    match protocol {
        Protocol::Json | Protocol::RestJson => {
            error_response(protocol, 400, "ThrottlingException", "Rate exceeded")
        }
        Protocol::Query => error_response(protocol, 400, "Throttling", "Rate exceeded"),
        Protocol::Ec2 => error_response(
            protocol,
            503,
            "RequestLimitExceeded",
            "Request limit exceeded.",
        ),
    }
}

fn server_error(protocol: Protocol) -> Vec<u8> {
    let code = if protocol == Protocol::Ec2 {
        "InternalError"
    } else {
        "InternalFailure"
    };
    error_response(protocol, 500, code, "We encountered an internal error.")
}

fn denied(protocol: Protocol, operation: &str) -> Vec<u8> {
    let message = format!("User is not authorized to perform: {operation}");
    match protocol {
        Protocol::Json | Protocol::RestJson => {
            error_response(protocol, 400, "AccessDeniedException", &message)
        }
        Protocol::Query => error_response(protocol, 403, "AccessDenied", &message),
        Protocol::Ec2 => error_response(protocol, 403, "UnauthorizedOperation", &message),
    }
}

fn serve(shared: &Shared, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let plan = shared
        .plan
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    let fault = {
        let mut rng = shared.rng.lock().unwrap_or_else(PoisonError::into_inner);
        (!plan.kinds.is_empty() && rng.f64() < plan.rate)
            .then(|| plan.kinds[rng.usize(..plan.kinds.len())])
    };
    let count = |f: &dyn Fn(&mut Stats)| {
        f(&mut shared.stats.lock().unwrap_or_else(PoisonError::into_inner))
    };
    if fault == Some(Fault::Reset) {
        // Wait until the request has arrived, then close with it unread: Linux answers a
        // close with unread data by a reset, not a FIN.
        let mut first = [0u8; 1];
        stream.peek(&mut first)?;
        count(&|s| {
            s.requests += 1;
            *s.faults.entry("reset".into()).or_default() += 1;
        });
        drop(stream);
        return Ok(());
    }
    let mut reader = BufReader::new(stream.try_clone()?);
    let request = read_request(&mut reader)?;
    let mut client = stream;
    count(&|s| {
        s.requests += 1;
        *s.operations.entry(request.operation.clone()).or_default() += 1;
    });
    if plan.deny.as_deref() == Some(request.operation.as_str()) {
        count(&|s| s.denied += 1);
        client.write_all(&denied(request.protocol, &request.operation))?;
        return client.shutdown(Shutdown::Both);
    }
    if plan.stall.as_deref() == Some(request.operation.as_str()) {
        count(&|s| s.stalled += 1);
        std::thread::sleep(plan.stall_for);
    }
    let answer = match fault {
        Some(Fault::Throttle) => Some(throttled(request.protocol)),
        Some(Fault::ServerError) => Some(server_error(request.protocol)),
        _ => None,
    };
    if let Some(f) = fault {
        let name = format!("{f:?}").to_lowercase();
        count(&|s| *s.faults.entry(name.clone()).or_default() += 1);
    }
    if let Some(answer) = answer {
        client.write_all(&answer)?;
        return client.shutdown(Shutdown::Both);
    }
    if fault == Some(Fault::Latency) {
        std::thread::sleep(plan.latency);
    }
    let response = forward(&shared.upstream, &request)?;
    client.write_all(&response)?;
    client.shutdown(Shutdown::Both)
}

/// Sends the request upstream on a connection of its own and returns the whole response,
/// marked `Connection: close` so the client does not reuse a connection the proxy closes.
fn forward(upstream: &str, request: &Request) -> std::io::Result<Vec<u8>> {
    let mut up = TcpStream::connect(upstream)?;
    let mut head = String::new();
    for (i, line) in request.head.iter().enumerate() {
        if i > 0 && line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        head.push_str(line);
        head.push_str("\r\n");
    }
    head.push_str("Connection: close\r\n\r\n");
    up.write_all(head.as_bytes())?;
    up.write_all(&request.body)?;
    let mut response = Vec::new();
    up.read_to_end(&mut response)?;
    let end = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(response.len());
    let head_text = String::from_utf8_lossy(&response[..end]).to_ascii_lowercase();
    if !head_text.contains("\r\nconnection: close") {
        let status_end = response.windows(2).position(|w| w == b"\r\n").unwrap_or(0);
        response.splice(status_end..status_end, *b"\r\nConnection: close");
    }
    Ok(response)
}
