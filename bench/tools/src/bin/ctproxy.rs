//! A header-adding proxy between a runtime and the emulator: cargo-lambda's
//! `/next` answer has no Content-Type, and awslambdaric crashes without one.
//! Each client connection gets its own upstream connection and thread;
//! responses without Content-Type get `application/json`. TCP_NODELAY on
//! every socket. `--prefix` is put before every request path (cargo-lambda
//! serves the Runtime API under `/.rt`, which `host:port` cannot express).
//!
//! ctproxy --listen HOST:PORT --upstream HOST:PORT [--prefix /.rt]

use bench_tools::{http, opt, parse_args};
use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::thread;

fn serve(client: TcpStream, upstream_addr: String, prefix: String) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    let upstream = TcpStream::connect(&upstream_addr)?;
    upstream.set_nodelay(true)?;
    let mut cw = client.try_clone()?;
    let mut cr = BufReader::with_capacity(1 << 16, client);
    let mut uw = upstream.try_clone()?;
    let mut ur = BufReader::with_capacity(1 << 16, upstream);
    while let Some(mut req) = http::read_message(&mut cr, false)? {
        if let Some((method, rest)) = req.start.split_once(' ') {
            req.start = format!("{method} {prefix}{rest}");
        }
        req.write_to(&mut uw)?;
        let mut resp = match http::read_message(&mut ur, true)? {
            Some(r) => r,
            None => return Ok(()),
        };
        if resp.header("content-type").is_none() {
            resp.headers
                .push(("Content-Type".into(), "application/json".into()));
        }
        resp.write_to(&mut cw)?;
    }
    Ok(())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, _) = parse_args(&args);
    let listen = opt(&opts, "listen", "127.0.0.1:0");
    let upstream = opt(&opts, "upstream", "127.0.0.1:9000");
    let prefix = opt(&opts, "prefix", "");
    let listener = TcpListener::bind(&listen).expect("bind");
    eprintln!("ctproxy {} -> {upstream}", listener.local_addr().unwrap());
    for conn in listener.incoming().flatten() {
        let up = upstream.clone();
        let pre = prefix.clone();
        thread::spawn(move || {
            if let Err(e) = serve(conn, up, pre) {
                eprintln!("ctproxy: {e}");
            }
        });
    }
}
