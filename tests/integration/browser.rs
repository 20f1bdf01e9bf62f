//! The HTML reports in a real browser: Debian's headless Chromium (installed by
//! `scripts/test.sh` when missing) loads each page from disk with no console message (no
//! script error, no resource it failed to load), and a screenshot shows every chart drawn:
//! the region where the page laid each one out is not blank.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::cli::geosim;

const CHROMIUM: &str = "chromium";

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("geosim-browser-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs headless Chromium with `args` (a fresh profile in `work`), killed after a minute;
/// returns its standard output and error.
fn chromium(work: &Path, args: &[String]) -> (String, String) {
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = work.join(format!("profile-{n}"));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start `{CHROMIUM}` ({e}): the browser tests need Debian's chromium \
                 package; ./scripts/test.sh installs it (apt-get install chromium)"
            )
        });
    // Read both pipes on threads so a chatty browser cannot block on a full pipe.
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).unwrap();
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).unwrap();
        s
    });
    let began = Instant::now(); // a guard against a hung browser, not a measurement
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if began.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("chromium did not finish within 60 s: {args:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (out.join().unwrap(), err.join().unwrap())
}

/// Console messages the page produced (Chromium logs each as `INFO:CONSOLE`).
fn console_messages(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(":CONSOLE")).collect()
}

/// A chart's place on the page, in CSS pixels.
#[derive(Debug)]
struct Placed {
    id: String,
    x: u32,
    y: u32,
    w: u32,
    h: u32,
}

/// Loads `page` in a frame of a harness page and reads back the page's height and where it
/// laid out each `figure.chart`'s SVG.
fn layout(work: &Path, page: &Path) -> (u32, Vec<Placed>) {
    let harness = page.with_file_name("geosim-browser-harness.html");
    std::fs::write(
        &harness,
        format!(
            "<!DOCTYPE html><html><body style=\"margin:0\">\
             <iframe id=\"f\" src=\"{}\" style=\"width:{WIDTH}px;height:40000px;border:0;display:block\"></iframe>\
             <script>document.getElementById('f').addEventListener('load', function () {{\
               var d = this.contentDocument;\
               var out = ['height,' + Math.ceil(d.body.getBoundingClientRect().bottom)];\
               d.querySelectorAll('figure.chart').forEach(function (fig) {{\
                 var r = fig.querySelector('svg').getBoundingClientRect();\
                 out.push([fig.id, r.left, r.top, r.width, r.height].map(function (v) {{\
                   return typeof v === 'number' ? Math.round(v) : v; }}).join(','));\
               }});\
               var p = document.createElement('pre'); p.id = 'layout';\
               p.textContent = out.join('\\n'); document.body.appendChild(p);\
             }});</script></body></html>",
            page.file_name().unwrap().to_string_lossy()
        ),
    )
    .unwrap();
    let (dom, _) = chromium(
        work,
        &[
            "--allow-file-access-from-files".into(),
            "--virtual-time-budget=10000".into(),
            "--dump-dom".into(),
            format!("file://{}", harness.display()),
        ],
    );
    std::fs::remove_file(&harness).unwrap();
    let body = dom
        .split("<pre id=\"layout\">")
        .nth(1)
        .and_then(|s| s.split("</pre>").next())
        .unwrap_or_else(|| panic!("the harness could not read the page's layout:\n{dom}"));
    let mut lines = body.lines();
    let height: u32 = lines.next().unwrap()["height,".len()..].parse().unwrap();
    let placed = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let n = |i: usize| f[i].parse::<i64>().unwrap().max(0) as u32;
            Placed {
                id: f[0].to_string(),
                x: n(1),
                y: n(2),
                w: n(3),
                h: n(4),
            }
        })
        .collect();
    (height, placed)
}

const WIDTH: u32 = 1200;

/// Whether a region holds a drawing: enough pixels that are not near-white, in several
/// colours (a chart has axes, text and data; a blank or one-colour box has not).
fn drawn(img: &image::RgbaImage, p: &Placed) -> Result<(), String> {
    let (x1, y1) = ((p.x + p.w).min(img.width()), (p.y + p.h).min(img.height()));
    if x1 <= p.x + 50 || y1 <= p.y + 50 {
        return Err(format!("{} is outside the screenshot or tiny: {p:?}", p.id));
    }
    let mut inked = 0u64;
    let mut colours = std::collections::BTreeSet::new();
    for y in p.y..y1 {
        for x in p.x..x1 {
            let [r, g, b, _] = img.get_pixel(x, y).0;
            if r.min(g).min(b) < 235 {
                inked += 1;
                colours.insert((r / 32, g / 32, b / 32));
            }
        }
    }
    let area = u64::from((x1 - p.x) * (y1 - p.y));
    if inked * 200 < area || colours.len() < 3 {
        return Err(format!(
            "{} looks blank: {inked} of {area} pixels drawn, {} colours",
            p.id,
            colours.len()
        ));
    }
    Ok(())
}

/// Opens `page` in Chromium: no console message, `figures` charts laid out, each drawn in
/// the screenshot.
fn check_page(work: &Path, page: &Path, figures: usize) {
    let url = format!("file://{}", page.display());
    let (_, err) = chromium(work, &["--dump-dom".into(), url.clone()]);
    let console = console_messages(&err);
    assert!(
        console.is_empty(),
        "{} logged to the console:\n{}",
        page.display(),
        console.join("\n")
    );
    let (height, placed) = layout(work, page);
    assert_eq!(placed.len(), figures, "{}: {placed:?}", page.display());
    let shot = work.join("shot.png");
    chromium(
        work,
        &[
            format!("--window-size={WIDTH},{}", height.clamp(600, 16000)),
            format!("--screenshot={}", shot.display()),
            url,
        ],
    );
    let img = image::open(&shot).unwrap().to_rgba8();
    for p in &placed {
        if let Err(e) = drawn(&img, p) {
            panic!("{}: {e}", page.display());
        }
    }
}

#[test]
fn the_blank_check_and_the_console_check_can_fail() {
    // A white box is blank; a box with a few lines of three colours is a drawing.
    let mut img = image::RgbaImage::from_pixel(400, 300, image::Rgba([255, 255, 255, 255]));
    let whole = Placed {
        id: "t".into(),
        x: 0,
        y: 0,
        w: 400,
        h: 300,
    };
    assert!(drawn(&img, &whole).is_err());
    for (i, c) in [[200, 0, 0], [0, 0, 200], [0, 0, 0]]
        .into_iter()
        .enumerate()
    {
        for x in 0..400 {
            for dy in 0..2 {
                img.put_pixel(
                    x,
                    50 + 80 * i as u32 + dy,
                    image::Rgba([c[0], c[1], c[2], 255]),
                );
            }
        }
    }
    assert!(drawn(&img, &whole).is_ok());
    // A page with a script error is caught.
    let work = scratch("console");
    let page = work.join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><p>x</p><script>missing();</script></body></html>",
    )
    .unwrap();
    let (_, err) = chromium(
        &work,
        &["--dump-dom".into(), format!("file://{}", page.display())],
    );
    assert_eq!(console_messages(&err).len(), 1, "{err}");
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn a_run_report_opens_with_every_chart_drawn() {
    let work = scratch("run");
    let rep = work.join("report");
    let (code, _, err) = geosim(&[
        "run",
        "scenarios/02-partition-and-heal.toml",
        "--report",
        rep.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(rep.join("index.html")).unwrap();
    // Self-contained: nothing fetched from elsewhere.
    for l in html.lines() {
        assert!(
            !(l.contains("src=\"http") || l.contains("href=\"http") || l.contains("@import")),
            "{l}"
        );
    }
    check_page(&work, &rep.join("index.html"), 6);
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn a_lesson_report_shows_its_space_time_diagram() {
    let work = scratch("lesson");
    let rep = work.join("report");
    let (code, _, err) = geosim(&[
        "run",
        "scenarios/teaching/01-concurrent-sets-lww.toml",
        "--report",
        rep.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(rep.join("index.html")).unwrap();
    assert!(html.contains("id=\"chart-spacetime\""));
    check_page(&work, &rep.join("index.html"), 7);
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn the_diff_and_check_pages_open_cleanly() {
    let work = scratch("pages");
    let (a, b) = (work.join("a"), work.join("b"));
    let s03 = "scenarios/03-backlog-overflow-full-sync.toml";
    assert_eq!(geosim(&["run", s03, "--report", a.to_str().unwrap()]).0, 0);
    let set = "replication.backlog_size=8MB";
    assert_eq!(
        geosim(&["run", s03, "--set", set, "--report", b.to_str().unwrap()]).0,
        1
    );
    let diff = work.join("diff.html");
    let (code, _, err) = geosim(&[
        "diff",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--html",
        diff.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    check_page(&work, &diff, 0);
    let check = work.join("check.html");
    let (code, _, err) = geosim(&[
        "check",
        "tests/data/check/pass.toml",
        "tests/data/check/fail.toml",
        "--html",
        check.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    check_page(&work, &check, 0);
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn a_sweep_page_opens_with_its_charts_and_cells() {
    let work = scratch("sweep");
    let out = work.join("sweep");
    let (code, _, err) = geosim(&[
        "sweep",
        "scenarios/03-backlog-overflow-full-sync.toml",
        "--seeds",
        "1..1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    // 4 backlog sizes × 2 durations × 1 seed: a row per cell, each with its rerun command.
    assert_eq!(html.matches("--report cell-").count(), 8, "{html}");
    check_page(&work, &out.join("index.html"), 4);
    std::fs::remove_dir_all(&work).unwrap();
}
