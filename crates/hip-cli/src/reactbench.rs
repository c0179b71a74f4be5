//! `hip bench reactions`: the ReactBench benchmark (`hip_bench::reactbench`) run by worker
//! processes, one single-threaded `hip bench-reaction-job` per reaction and provider — or per
//! reaction for the model's providers, which share one surface and so one band
//! (`rb::run_reaction_shared`: each record is still what the provider gets alone, its time and
//! calls with the band's) — at most `--workers` at a time, each provider killed at the
//! per-reaction time cap. Resumable: every finished
//! pair is one JSON line of `OUT/runs.jsonl`, written by this process only, and a rerun skips the
//! pairs already there. At the end (and with `--summary-only`) it writes `OUT/summary.json` and
//! `OUT/summary.md`, over the reactions every chosen provider has finished.

use std::collections::VecDeque;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use hip_bench::reactbench::{self as rb, ReactionRecord};
use hip_core::Potential;
use hip_model::{HessianMethod, ModelPotential};

use crate::surface::Surface;

#[derive(Args, Debug)]
pub struct ReactionsArgs {
    /// The set: a folder of NAME.xyz files or a .tar.gz of them (two frames each: R, P).
    #[arg(long, default_value = "datasets/reactbench/ts1x.tar.gz")]
    pub set: PathBuf,
    /// Reaction names, one per line [default: every reaction of the set].
    #[arg(long)]
    pub names: Option<PathBuf>,
    /// Only the first N names.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Providers, comma-separated: direct, direct-probes, autodiff, quasi-newton, gfn2.
    #[arg(long, value_delimiter = ',', default_value = "direct,direct-probes,autodiff,quasi-newton,gfn2")]
    pub providers: Vec<String>,
    /// Model checkpoint of the model providers (default: the embedded model).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Output folder: runs.jsonl (resumable), summary.json, summary.md.
    #[arg(long, default_value = "reports/reactbench")]
    pub out: PathBuf,
    /// Worker processes, one thread each.
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
    /// Time cap per reaction and provider, s (a run past it is killed and recorded as an error).
    #[arg(long, default_value_t = 900)]
    pub cap: u64,
    /// Only (re)write the summary from runs.jsonl.
    #[arg(long)]
    pub summary_only: bool,
    /// Records of the ASE + Sella peer on GFN2-xTB (`datasets/reactbench.py peer --out FILE`), shown
    /// in the summary as provider `peer-ase-sella`, over the same reactions.
    #[arg(long)]
    pub peer: Option<PathBuf>,
    /// RS-P-RFO climbs the lowest mode after every fresh Hessian (instead of the mode that
    /// overlaps most with the one climbed before). Use a fresh --out: records of one setting only.
    #[arg(long)]
    pub follow_lowest: bool,
    /// TS searches per reaction: 1 (the default, as `hip reaction`: the climbing image's lowest
    /// mode, the paper's protocol) to 3 (retries along the band tangent and from the climbing
    /// image's higher neighbour when a search fails or its IRC misses R or P). Use a fresh --out:
    /// records of one setting only.
    #[arg(long, default_value_t = 1)]
    pub ts_attempts: usize,
}

/// One reaction with one provider, or with several model providers sharing the band
/// (`rb::run_reaction_shared`), in this process (`hip bench-reaction-job`, spawned by `hip bench
/// reactions`): prints `{"band_s": S}` when the band is relaxed, then each record as one JSON line.
#[derive(Args, Debug)]
pub struct JobArgs {
    #[arg(long)]
    pub set: PathBuf,
    #[arg(long)]
    pub name: String,
    #[arg(long, value_delimiter = ',', required = true)]
    pub provider: Vec<String>,
    /// Time cap per provider, s (band included).
    #[arg(long, default_value_t = f64::INFINITY)]
    pub cap: f64,
    #[arg(long)]
    pub model: Option<PathBuf>,
    #[arg(long)]
    pub follow_lowest: bool,
    #[arg(long, default_value_t = 1)]
    pub ts_attempts: usize,
}

/// The surface a provider searches on, and its grader when that is not the surface's own Hessian
/// (the model's autodiff Hessian grades its direct providers).
type Surfaces = (Box<dyn Potential>, Option<Box<dyn Potential>>);

fn surfaces(provider: &str, model: Option<&Arc<hip_model::HipModel>>) -> Result<Surfaces, String> {
    if provider == "gfn2" {
        return Ok((Box::new(Surface::gfn2()?), None));
    }
    rb::ts_options(provider)?;
    let m = model.ok_or("a model provider needs the model")?.clone();
    if provider == "autodiff" {
        return Ok((Box::new(ModelPotential { model: m, method: HessianMethod::Autodiff }), None));
    }
    Ok((
        Box::new(ModelPotential { model: m.clone(), method: HessianMethod::Direct }),
        Some(Box::new(ModelPotential { model: m, method: HessianMethod::Autodiff })),
    ))
}

pub fn job(a: JobArgs) -> Result<(), String> {
    let reaction = rb::read_set(&a.set, Some(std::slice::from_ref(&a.name))).map_err(|e| e.to_string())?.remove(0);
    let model = if a.provider.iter().any(|p| shares_model_surface(p)) {
        Some(Arc::new(crate::model_io::load_model(a.model.as_deref())?))
    } else {
        None
    };
    if a.provider.len() > 1 && a.provider.iter().any(|p| !shares_model_surface(p)) {
        return Err(format!("providers {:?}: only model providers share a band", a.provider));
    }
    let surfaces: Vec<Surfaces> = a.provider.iter().map(|p| surfaces(p, model.as_ref())).collect::<Result<_, _>>()?;
    let runs: Vec<rb::ProviderRun> = a
        .provider
        .iter()
        .zip(&surfaces)
        .map(|(p, (s, g))| rb::ProviderRun { provider: p, surface: s.as_ref(), grader: g.as_deref() })
        .collect();
    let knobs = rb::Knobs { follow_lowest: a.follow_lowest, ts_attempts: a.ts_attempts };
    let mut out = std::io::stdout().lock();
    let mut failed = None;
    rb::run_reaction_shared(&reaction, &runs, knobs, a.cap, |e| {
        let line = match e {
            rb::SharedEvent::BandDone(s) => serde_json::json!({ "band_s": s }).to_string(),
            rb::SharedEvent::Record(r) => serde_json::to_string(&r).unwrap_or_default(),
        };
        if let Err(e) = writeln!(out, "{line}").and_then(|_| out.flush()) {
            failed.get_or_insert(e.to_string());
        }
    })?;
    failed.map_or(Ok(()), Err)
}

/// Model providers: one surface (the model's energies and forces), different Hessians.
fn shares_model_surface(provider: &str) -> bool {
    provider != "gfn2"
}

/// The provider name of the peer's records in the summary.
const PEER: &str = "peer-ase-sella";

/// A worker: one reaction with one provider, or with a group of model providers that share the
/// band. Its stdout lines are read as they come, so that the parent knows where it is.
struct Running {
    child: Child,
    name: String,
    providers: Vec<String>,
    started: Instant,
    /// Lines of its stdout, with when they arrived.
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
    reader: Option<std::thread::JoinHandle<()>>,
    /// The worker's stderr goes to a file (a pipe read only at exit would block a chatty worker).
    stderr: PathBuf,
}

fn spawn(a: &ReactionsArgs, name: &str, providers: &[String]) -> Result<Running, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.args(["bench-reaction-job", "--set"]).arg(&a.set).args(["--name", name, "--provider", &providers.join(",")]);
    cmd.arg("--cap").arg(a.cap.to_string());
    if let Some(m) = &a.model {
        cmd.arg("--model").arg(m);
    }
    if a.follow_lowest {
        cmd.arg("--follow-lowest");
    }
    cmd.arg("--ts-attempts").arg(a.ts_attempts.to_string());
    cmd.env("RAYON_NUM_THREADS", "1").env("OMP_NUM_THREADS", "1");
    let tag = providers.join("+");
    let stderr = std::env::temp_dir().join(format!("hip-reactbench-{}-{name}-{tag}.stderr", std::process::id()));
    let file = std::fs::File::create(&stderr).map_err(|e| format!("{}: {e}", stderr.display()))?;
    let mut child = cmd.stdout(Stdio::piped()).stderr(file).spawn().map_err(|e| e.to_string())?;
    let lines = Arc::new(Mutex::new(Vec::new()));
    let reader = child.stdout.take().map(|out| {
        let lines = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if let Ok(mut l) = lines.lock() {
                    l.push((Instant::now(), line));
                }
            }
        })
    });
    Ok(Running {
        child,
        name: name.into(),
        providers: providers.to_vec(),
        started: Instant::now(),
        lines,
        reader,
        stderr,
    })
}

impl Running {
    /// The band's seconds (once the worker said so) and the records it has printed.
    fn progress(&self) -> (Option<f64>, Vec<ReactionRecord>, Instant) {
        let lines = self.lines.lock().map(|l| l.clone()).unwrap_or_default();
        let band_s = lines.iter().find_map(|(_, l)| {
            serde_json::from_str::<serde_json::Value>(l).ok().and_then(|v| v.get("band_s").and_then(|x| x.as_f64()))
        });
        let records: Vec<ReactionRecord> =
            lines.iter().filter_map(|(_, l)| serde_json::from_str::<ReactionRecord>(l).ok()).collect();
        let last = lines.last().map_or(self.started, |(t, _)| *t);
        (band_s, records, last)
    }

    /// Past the cap: the provider running now has spent `cap` (the band's time included), or the
    /// band alone has.
    fn over(&self, cap: Duration) -> bool {
        let (band_s, _, last) = self.progress();
        match band_s {
            None => self.started.elapsed() > cap,
            Some(b) => Duration::from_secs_f64(b) + last.elapsed() > cap,
        }
    }
}

/// The records of a finished or killed worker, and its providers to run again. A worker killed
/// at the cap: the provider it was running is a time-cap error (every provider, if the band itself
/// ran past the cap), the ones after it run again in a new worker; a worker that failed otherwise:
/// an error record for each provider it did not finish.
fn collect(mut r: Running, killed_at_cap: Option<u64>) -> (Vec<ReactionRecord>, Vec<String>) {
    let status = r.child.wait();
    if let Some(h) = r.reader.take() {
        let _ = h.join();
    }
    let secs = r.started.elapsed().as_secs_f64();
    let err = std::fs::read_to_string(&r.stderr).unwrap_or_default();
    let _ = std::fs::remove_file(&r.stderr);
    let (band_s, mut records, _) = r.progress();
    let missing: Vec<String> =
        r.providers.iter().filter(|p| !records.iter().any(|x| &x.provider == *p)).cloned().collect();
    let mut again = Vec::new();
    match killed_at_cap {
        Some(cap) => {
            let capped = if band_s.is_none() { missing.len() } else { missing.len().min(1) };
            for p in &missing[..capped] {
                records.push(ReactionRecord::failed(&r.name, p, format!("time cap of {cap} s"), cap as f64));
            }
            again.extend_from_slice(&missing[capped..]);
        }
        None => {
            let why = match &status {
                Ok(st) => {
                    let msg = err.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no output").trim();
                    format!("worker failed ({st}): {msg}")
                }
                Err(e) => format!("worker: {e}"),
            };
            for p in &missing {
                records.push(ReactionRecord::failed(&r.name, p, why.clone(), secs));
            }
        }
    }
    (records, again)
}

fn append(path: &Path, rec: &ReactionRecord) -> Result<(), String> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    writeln!(f, "{}", serde_json::to_string(rec).map_err(|e| e.to_string())?)
        .and_then(|_| f.flush())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn counts_line(records: &[ReactionRecord], providers: &[String]) -> String {
    providers
        .iter()
        .map(|p| {
            let rs: Vec<&ReactionRecord> = records.iter().filter(|r| &r.provider == p).collect();
            let ts = rs.iter().filter(|r| r.ts_success_graded).count();
            let int = rs.iter().filter(|r| r.intended).count();
            format!("{p} {ts}/{int}/{}", rs.len())
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn names(a: &ReactionsArgs) -> Result<Vec<String>, String> {
    let mut names = match &a.names {
        Some(p) => rb::read_names(p).map_err(|e| e.to_string())?,
        None => rb::read_set(&a.set, None).map_err(|e| e.to_string())?.into_iter().map(|r| r.name).collect(),
    };
    if let Some(k) = a.limit {
        names.truncate(k);
    }
    Ok(names)
}

pub fn reactions(a: ReactionsArgs) -> Result<(), String> {
    let (md, _) = run_reactions(&a)?;
    print!("{md}");
    Ok(())
}

/// Runs what `a` asks for (resuming from its `runs.jsonl`) and writes the summary; returns it as
/// Markdown and JSON.
pub fn run_reactions(a: &ReactionsArgs) -> Result<(String, serde_json::Value), String> {
    for p in &a.providers {
        if !rb::PROVIDERS.contains(&p.as_str()) {
            return Err(format!("--providers: unknown provider {p} ({})", rb::PROVIDERS.join(", ")));
        }
    }
    let names = names(a)?;
    std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    let runs = a.out.join("runs.jsonl");
    let mut records = rb::read_records(&runs).map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    if !a.summary_only {
        rb::read_set(&a.set, Some(&names)).map_err(|e| e.to_string())?; // every input checked up front
        run_all(a, &names, &runs, &mut records)?;
    }
    write_summary(a, &names, &records, t0.elapsed().as_secs_f64())
}

/// The work still to do as worker jobs: each reaction's model providers in one job (they share
/// the band), GFN2-xTB in its own.
fn jobs(names: &[String], providers: &[String], records: &[ReactionRecord]) -> VecDeque<(String, Vec<String>)> {
    let mut jobs: VecDeque<(String, Vec<String>)> = VecDeque::new();
    for (n, p) in rb::todo(names, providers, records) {
        match jobs.back_mut() {
            Some((m, group))
                if *m == n && shares_model_surface(&p) && group.iter().all(|q| shares_model_surface(q)) =>
            {
                group.push(p)
            }
            _ => jobs.push_back((n, vec![p])),
        }
    }
    jobs
}

fn run_all(a: &ReactionsArgs, names: &[String], runs: &Path, records: &mut Vec<ReactionRecord>) -> Result<(), String> {
    let mut queue = jobs(names, &a.providers, records);
    let bar = indicatif::ProgressBar::new(queue.iter().map(|(_, g)| g.len() as u64).sum());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} [{elapsed_precise}<{eta_precise}] {msg}")
            .map_err(|e| e.to_string())?,
    );
    bar.set_message(counts_line(records, &a.providers));
    let mut running: Vec<Running> = Vec::new();
    let cap = Duration::from_secs(a.cap);
    while !queue.is_empty() || !running.is_empty() {
        while running.len() < a.workers.max(1) {
            let Some((n, g)) = queue.pop_front() else { break };
            running.push(spawn(a, &n, &g)?);
        }
        let mut k = 0;
        while k < running.len() {
            let r = &mut running[k];
            let exited = r.child.try_wait().map_err(|e| e.to_string())?.is_some();
            let over = !exited && r.over(cap);
            if over {
                let _ = r.child.kill();
            }
            if exited || over {
                let r = running.swap_remove(k);
                let name = r.name.clone();
                let (done, again) = collect(r, over.then_some(a.cap));
                for rec in done {
                    append(runs, &rec)?;
                    records.push(rec);
                    bar.inc(1);
                }
                if !again.is_empty() {
                    queue.push_front((name, again));
                }
                bar.set_message(counts_line(records, &a.providers));
            } else {
                k += 1;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish();
    Ok(())
}

fn write_summary(
    a: &ReactionsArgs,
    names: &[String],
    records: &[ReactionRecord],
    wall: f64,
) -> Result<(String, serde_json::Value), String> {
    let mut records = records.to_vec();
    let mut providers = a.providers.clone();
    if let Some(p) = &a.peer {
        records.extend(rb::read_peer_records(p, PEER).map_err(|e| e.to_string())?);
        providers.push(PEER.into());
    }
    let records = &records;
    let common = rb::common_names(records, &providers, names);
    let summaries: Vec<rb::ProviderSummary> = providers.iter().map(|p| rb::summarize(records, p, &common)).collect();
    let dis = rb::disagreements(records, &providers, &common);
    let json = serde_json::json!({
        "set": a.set, "names": a.names, "providers": providers, "peer": a.peer, "model": a.model, "cap_s": a.cap, "knobs": rb::Knobs { follow_lowest: a.follow_lowest, ts_attempts: a.ts_attempts },
        "reactions_requested": names.len(), "reactions_compared": common.len(),
        "wall_s_this_run": wall, "command": std::env::args().collect::<Vec<_>>().join(" "),
        "summaries": summaries, "disagreements": dis,
    });
    let text = serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?;
    hip_core::io::atomic::write(&a.out.join("summary.json"), text).map_err(|e| e.to_string())?;
    let mut md = format!(
        "# ReactBench: {} of {} reactions finished by every provider\n\nSet `{}`{}{}; \
         TS success: converged within {} RS-P-RFO steps with exactly one mode below −10 cm⁻¹ (own: by the \
         Hessian that drove the search; graded: by the model's autodiff Hessian for model providers, \
         GFN2-xTB's for gfn2 and the peer); intended: the IRC ends have R's and P's bond graphs. `{PEER}`: the \
         standard ASE CI-NEB + Sella + Sella-IRC pipeline on GFN2-xTB (`datasets/reactbench.py peer`).\n\n",
        common.len(),
        names.len(),
        a.set.display(),
        a.names.as_ref().map_or(String::new(), |p| format!(", names `{}`", p.display())),
        if a.summary_only { String::new() } else { format!("; cap {} s per run", a.cap) },
        rb::MAX_TS_STEPS
    );
    md += &rb::markdown(&summaries, common.len());
    md += &format!("\n{} reactions where the providers disagree (graded TS success or intended):\n\n", dis.len());
    for (n, row) in dis.iter().take(200) {
        let cells: Vec<String> = row
            .iter()
            .map(|(p, t, i)| format!("{p} {}{}", if *t { "TS" } else { "–" }, if *i { "+I" } else { "" }))
            .collect();
        md += &format!("- {n}: {}\n", cells.join(", "));
    }
    hip_core::io::atomic::write(&a.out.join("summary.md"), md.clone()).map_err(|e| e.to_string())?;
    summary_plot(&a.out.join("summary"), &summaries, common.len())?;
    Ok((md, json))
}

/// `summary.svg/.png`: TS success (own, graded) and intended per provider, % of the compared
/// reactions.
fn summary_plot(stem: &std::path::Path, summaries: &[rb::ProviderSummary], n: usize) -> Result<(), String> {
    let pct = |k: usize| if n == 0 { 0.0 } else { 100.0 * k as f64 / n as f64 };
    let cats: Vec<String> = summaries.iter().map(|s| s.provider.clone()).collect();
    let series = vec![
        ("TS success (own Hessian)".to_string(), summaries.iter().map(|s| pct(s.ts_success_own)).collect()),
        (
            "TS success (one grader per surface)".to_string(),
            summaries.iter().map(|s| pct(s.ts_success_graded)).collect(),
        ),
        ("intended".to_string(), summaries.iter().map(|s| pct(s.intended)).collect()),
    ];
    hip_bench::plots::bar_plot(stem, &format!("ReactBench: {n} reactions"), "% of reactions", &cats, &series)
}
