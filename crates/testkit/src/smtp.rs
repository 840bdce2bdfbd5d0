//! A small SMTP server for tests: a thread on 127.0.0.1:0 that speaks
//! enough of RFC 5321 (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) to
//! receive what Vigil sends with `smtp.security = "none"`, and keeps every
//! message. Addresses listed in `refuse` get `550` at RCPT, like a
//! mailbox that does not exist. Plain threads, so both async tests and
//! process tests can use it.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};

/// One message as received.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The DATA, dot-unstuffed, with CRLF line ends.
    pub data: String,
}

impl Mail {
    /// A header of the message (unfolded), by name.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
        unfolded.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }

    /// The `Subject` header, empty when there is none.
    pub fn subject(&self) -> String {
        self.header("subject").unwrap_or_default()
    }

    /// The decoded body of the MIME part of this content type.
    pub fn part(&self, content_type: &str) -> Option<String> {
        let top = self.header("content-type")?;
        let boundary = top
            .split("boundary=")
            .nth(1)?
            .trim_matches('"')
            .split(['"', ';'])
            .next()?
            .to_owned();
        for part in self.data.split(&format!("--{boundary}")) {
            let Some((head, body)) = part.split_once("\r\n\r\n") else {
                continue;
            };
            let head = head.replace("\r\n ", " ").to_ascii_lowercase();
            if !head.contains(&format!("content-type: {content_type}")) {
                continue;
            }
            let body = body.trim_end_matches("\r\n");
            return Some(
                if head.contains("content-transfer-encoding: quoted-printable") {
                    quoted_printable(body)
                } else if head.contains("content-transfer-encoding: base64") {
                    base64(body)
                } else {
                    body.to_owned()
                },
            );
        }
        None
    }
}

fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let Some(v) = ALPHABET.iter().position(|&a| a == c) else {
            continue;
        };
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The running server and what it received; it stops with the test
/// process.
#[derive(Debug, Clone)]
pub struct SmtpServer {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpServer {
    /// Start listening; `refuse`: recipients answered with `550`.
    pub fn start(refuse: &[&str]) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind smtp");
        let port = listener.local_addr().expect("addr").port();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let refuse: Arc<Vec<String>> =
            Arc::new(refuse.iter().map(|a| a.to_ascii_lowercase()).collect());
        let kept = mails.clone();
        std::thread::spawn(move || {
            for socket in listener.incoming().map_while(Result::ok) {
                let kept = kept.clone();
                let refuse = refuse.clone();
                std::thread::spawn(move || {
                    let _ = session(socket, &kept, &refuse);
                });
            }
        });
        SmtpServer { port, mails }
    }

    /// Every message received so far.
    pub fn mails(&self) -> Vec<Mail> {
        self.mails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn address(arg: &str) -> String {
    let a = arg.split_once(':').map_or(arg, |(_, a)| a).trim();
    let a = a.split_whitespace().next().unwrap_or_default();
    a.trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

fn session(socket: TcpStream, kept: &Mutex<Vec<Mail>>, refuse: &[String]) -> std::io::Result<()> {
    let mut write = socket.try_clone()?;
    let mut lines = BufReader::new(socket);
    write.write_all(b"220 test-smtp ESMTP ready\r\n")?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let verb = cmd
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-test-smtp greets you\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" => b"250 test-smtp\r\n",
            "MAIL" => {
                from = address(&cmd[4..]);
                to.clear();
                b"250 sender ok\r\n"
            }
            "RCPT" => {
                let rcpt = address(&cmd[4..]);
                if refuse.contains(&rcpt) {
                    b"550 5.1.1 no such mailbox\r\n"
                } else {
                    to.push(rcpt);
                    b"250 recipient ok\r\n"
                }
            }
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line)? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                kept.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(Mail {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    });
                b"250 queued\r\n"
            }
            "RSET" => {
                to.clear();
                b"250 ok\r\n"
            }
            "NOOP" => b"250 ok\r\n",
            "QUIT" => {
                write.write_all(b"221 bye\r\n")?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        write.write_all(reply)?;
    }
}
