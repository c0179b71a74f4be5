//! `hip bench reactions`' logic: reading a ReactBench-format set (folder and tarball, bad inputs),
//! the resume bookkeeping, the summary over common reactions, and one reaction end to end on an
//! analytic surface (ammonia inversion on a bonded force field: a known first-order saddle, so
//! both gradings must find it and the IRC must connect the two ends).

use std::io::Write;
use std::path::{Path, PathBuf};

use hip_bench::reactbench::{self as rb, ReactionRecord};
use hip_core::Molecule;
use hip_tasks::optimize::rfo;
use hip_tasks::potentials::{Analytic, BondedForceField};

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hip-rb-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn ammonia_planar() -> Molecule {
    let h = |a: f64| [1.02 * a.to_radians().cos(), 1.02 * a.to_radians().sin(), 0.0];
    Molecule::new(vec![7, 1, 1, 1], vec![[0.0; 3], h(0.0), h(120.0), h(240.0)]).unwrap()
}

/// Ammonia's two pyramids on the bonded force field of the planar form (its saddle).
fn inversion() -> (Analytic<BondedForceField>, Molecule, Molecule) {
    let planar = ammonia_planar();
    let pot = Analytic(BondedForceField::new(&planar).unwrap());
    let (mut up, mut down) = (planar.clone(), planar);
    up.positions[0][2] = 0.1;
    down.positions[0][2] = -0.1;
    let r = rfo::minimize(&pot, &up, &rfo::RfoOptions::default()).unwrap().molecule;
    let p = rfo::minimize(&pot, &down, &rfo::RfoOptions::default()).unwrap().molecule;
    (pot, r, p)
}

fn two_frames(r: &Molecule, p: &Molecule) -> String {
    hip_core::io::xyz::format_xyz(r, "R") + &hip_core::io::xyz::format_xyz(p, "P")
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn a_folder_and_a_tarball_of_the_same_files_read_alike_and_names_select() {
    let (_, r, p) = inversion();
    let d = dir("set");
    let folder = d.join("set");
    std::fs::create_dir_all(&folder).unwrap();
    write(&folder.join("rxnA.xyz"), &two_frames(&r, &p));
    write(&folder.join("rxnB.xyz"), &two_frames(&p, &r));
    write(&folder.join("notes.txt"), "not a reaction");
    let tgz = d.join("set.tar.gz");
    {
        let f = std::fs::File::create(&tgz).unwrap();
        let mut t = tar::Builder::new(flate2::write::GzEncoder::new(f, flate2::Compression::default()));
        t.append_dir_all("ts1x", &folder).unwrap();
        t.into_inner().unwrap().finish().unwrap().flush().unwrap();
    }
    for src in [&folder, &tgz] {
        let all = rb::read_set(src, None).unwrap();
        assert_eq!(all.iter().map(|x| x.name.as_str()).collect::<Vec<_>>(), ["rxnA", "rxnB"], "{}", src.display());
        let one = rb::read_set(src, Some(&["rxnB".to_string()])).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].reactant.positions, all[1].reactant.positions);
        let e = rb::read_set(src, Some(&["rxnZ".to_string()])).unwrap_err().to_string();
        assert!(e.contains("no reaction named rxnZ"), "{e}");
    }
}

#[test]
fn a_bad_reaction_file_in_a_set_is_an_error_naming_it() {
    let (_, r, p) = inversion();
    let d = dir("bad");
    write(&d.join("one.xyz"), &hip_core::io::xyz::format_xyz(&r, "R"));
    let e = rb::read_set(&d, None).unwrap_err().to_string();
    assert!(e.contains("one.xyz") && e.contains("1 frame(s)"), "{e}");
    std::fs::remove_file(d.join("one.xyz")).unwrap();
    let mut perm = p.clone();
    perm.numbers.swap(0, 1);
    perm.positions.swap(0, 1);
    write(&d.join("perm.xyz"), &two_frames(&r, &perm));
    let e = rb::read_set(&d, None).unwrap_err().to_string();
    assert!(e.contains("perm.xyz") && e.contains("permutation"), "{e}");
}

fn rec(name: &str, provider: &str, graded: bool, intended: bool) -> ReactionRecord {
    ReactionRecord {
        name: name.into(),
        provider: provider.into(),
        ts_converged: graded,
        ts_success_own: graded,
        ts_success_graded: graded,
        intended,
        barrier_ev: graded.then_some(1.0),
        ..Default::default()
    }
}

#[test]
fn resume_skips_finished_pairs_and_reads_back_what_was_written() {
    let d = dir("resume");
    let runs = d.join("runs.jsonl");
    assert!(rb::read_records(&runs).unwrap().is_empty(), "no file: nothing done");
    let done = vec![rec("a", "direct", true, false), rec("b", "gfn2", false, false)];
    let text: String = done.iter().map(|r| serde_json::to_string(r).unwrap() + "\n").collect();
    write(&runs, &text);
    let back = rb::read_records(&runs).unwrap();
    assert_eq!(back, done);
    let names: Vec<String> = ["a", "b"].map(String::from).to_vec();
    let providers: Vec<String> = ["direct", "gfn2"].map(String::from).to_vec();
    let todo = rb::todo(&names, &providers, &back);
    assert_eq!(todo, vec![("a".into(), "gfn2".into()), ("b".into(), "direct".into())]);
    // a corrupt line is an error naming its line, not a silent half-read
    write(&runs, &(text + "{not json\n"));
    let e = rb::read_records(&runs).unwrap_err().to_string();
    assert!(e.contains("runs.jsonl:3"), "{e}");
}

#[test]
fn summaries_count_only_reactions_every_provider_finished() {
    let records = vec![
        rec("a", "direct", false, false),
        rec("a", "autodiff", true, true),
        rec("b", "direct", true, true),
        rec("b", "autodiff", true, true),
        rec("c", "autodiff", true, false), // direct has not finished c
    ];
    let providers: Vec<String> = ["direct", "autodiff"].map(String::from).to_vec();
    let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
    let common = rb::common_names(&records, &providers, &names);
    assert_eq!(common, ["a", "b"]);
    let s = rb::summarize(&records, "autodiff", &common);
    assert_eq!((s.runs, s.ts_success_graded, s.intended), (2, 2, 2));
    let s = rb::summarize(&records, "direct", &common);
    assert_eq!((s.runs, s.ts_success_graded, s.intended, s.median_barrier_ev), (2, 1, 1, Some(1.0)));
    let dis = rb::disagreements(&records, &providers, &common);
    assert_eq!(dis.len(), 1);
    assert_eq!(dis[0].0, "a");
    let md = rb::markdown(&[s], common.len());
    assert!(md.contains("| direct | 1 (50 %) | 1 (50 %) | 1 (50 %) |"), "{md}");
}

#[test]
fn one_reaction_end_to_end_on_an_analytic_surface_is_graded_twice() {
    let (pot, r, p) = inversion();
    let reaction = rb::Reaction { name: "nh3".into(), reactant: r, product: p };
    // graded by a separate grader (as the model's direct providers are) and by the search's own
    // Hessian (as autodiff and GFN2-xTB are)
    for (provider, grader) in [("autodiff", None), ("quasi-newton", Some(&pot as &dyn hip_core::Potential))] {
        let out = rb::run_reaction(&reaction, provider, &pot, grader, rb::Knobs::default()).unwrap();
        assert_eq!(out.error, None, "{provider}");
        assert!(out.ts_success_own && out.ts_success_graded && out.intended, "{provider}: {out:?}");
        assert_eq!((out.n_imag_own, out.n_imag_graded), (Some(1), Some(1)), "{provider}");
        assert!(out.ts_steps <= rb::MAX_TS_STEPS && out.gradient_calls > 0, "{provider}");
        assert!(out.barrier_ev.unwrap() > 0.0, "{provider}: the planar saddle is above the pyramid");
    }
    assert!(
        rb::run_reaction(&reaction, "newton", &pot, None, rb::Knobs::default())
            .unwrap_err()
            .contains("unknown provider")
    );
}

#[test]
fn providers_sharing_a_band_get_the_records_they_get_alone() {
    let (pot, r, p) = inversion();
    let reaction = rb::Reaction { name: "nh3".into(), reactant: r, product: p };
    let grader = Some(&pot as &dyn hip_core::Potential);
    let runs = [
        rb::ProviderRun { provider: "autodiff", surface: &pot, grader: None },
        rb::ProviderRun { provider: "quasi-newton", surface: &pot, grader },
        rb::ProviderRun { provider: "direct-probes", surface: &pot, grader },
    ];
    let mut events = Vec::new();
    rb::run_reaction_shared(&reaction, &runs, rb::Knobs::default(), f64::INFINITY, |e| events.push(e)).unwrap();
    assert!(matches!(events[0], rb::SharedEvent::BandDone(s) if s >= 0.0), "{events:?}");
    assert_eq!(events.len(), 1 + runs.len());
    for (run, e) in runs.iter().zip(&events[1..]) {
        let rb::SharedEvent::Record(shared) = e else { panic!("{e:?}") };
        let alone = rb::run_reaction(&reaction, run.provider, run.surface, run.grader, rb::Knobs::default()).unwrap();
        assert!(shared.shared_band && !alone.shared_band);
        // the pipeline is deterministic: everything but the wall time is the same, the band's
        // calls included in each provider's count
        let strip = |r: &ReactionRecord| ReactionRecord { seconds: 0.0, shared_band: false, ..r.clone() };
        assert_eq!(strip(shared.as_ref()), strip(&alone), "{}", run.provider);
    }
    // a provider past the cap (here 0 s) is a time-cap error, as alone under that cap
    let mut capped = Vec::new();
    rb::run_reaction_shared(&reaction, &runs[..2], rb::Knobs::default(), 0.0, |e| {
        if let rb::SharedEvent::Record(r) = e {
            capped.push(*r)
        }
    })
    .unwrap();
    assert_eq!(capped.len(), 2);
    for c in &capped {
        assert_eq!(c.error.as_deref(), Some("time cap of 0 s"));
        assert!(!c.ts_success_own && !c.ts_success_graded && !c.intended);
    }
}

/// A potential that reports a counter of its own ([`hip_core::Potential::diagnostics`]).
struct Noted<'a>(&'a dyn hip_core::Potential, std::cell::Cell<f64>);

impl hip_core::Potential for Noted<'_> {
    fn name(&self) -> String {
        self.0.name()
    }
    fn energy_forces(&self, mol: &Molecule) -> hip_core::Result<hip_core::EnergyForces> {
        self.1.set(self.1.get() + 1.0);
        self.0.energy_forces(mol)
    }
    fn hessian(&self, mol: &Molecule) -> hip_core::Result<hip_core::Hessian> {
        self.0.hessian(mol)
    }
    fn diagnostics(&self) -> std::collections::BTreeMap<String, f64> {
        [("calls".to_string(), self.1.get())].into()
    }
}

#[test]
fn a_record_carries_the_surfaces_own_counters() {
    let (pot, r, p) = inversion();
    let reaction = rb::Reaction { name: "nh3".into(), reactant: r, product: p };
    let noted = Noted(&pot, std::cell::Cell::new(0.0));
    let rec = rb::run_reaction(&reaction, "autodiff", &noted, None, rb::Knobs::default()).unwrap();
    assert_eq!(rec.diagnostics["calls"], rec.gradient_calls as f64);
    // none: no field in the JSON line
    let plain = rb::run_reaction(&reaction, "autodiff", &pot, None, rb::Knobs::default()).unwrap();
    assert!(!serde_json::to_string(&plain).unwrap().contains("diagnostics"));
}

#[test]
fn the_peers_records_read_as_records_and_a_bad_line_is_an_error() {
    let d = dir("peer");
    let f = d.join("peer.jsonl");
    write(
        &f,
        "{\"name\": \"a\", \"n_atoms\": 7, \"ts_success\": true, \"intended\": false, \"ts_steps\": 3, \"n_imag\": 1, \
         \"barrier_eV\": 1.5, \"grad_calls\": 100, \"hessian_calls\": 4, \"seconds\": 2.0, \"neb_converged\": true}\n\
         {\"name\": \"b\", \"error\": \"SCF failed\", \"ts_success\": false, \"intended\": false}\n",
    );
    let r = rb::read_peer_records(&f, "peer").unwrap();
    assert_eq!(r.len(), 2);
    assert!(r[0].ts_success_own && r[0].ts_success_graded && !r[0].intended);
    assert_eq!((r[0].ts_steps, r[0].n_imag_graded, r[0].barrier_ev, r[0].gradient_calls), (3, Some(1), Some(1.5), 100));
    assert_eq!(r[1].error.as_deref(), Some("SCF failed"));
    write(&f, "{\"ts_success\": true}\n");
    let e = rb::read_peer_records(&f, "peer").unwrap_err().to_string();
    assert!(e.contains("peer.jsonl:1") && e.contains("no reaction name"), "{e}");
}

#[test]
fn gradient_calls_count_the_finite_difference_hessians_singlepoints() {
    // a GFN2-xTB Hessian is 6N + 1 singlepoints: counted in gradient_calls as the peer counts them;
    // records from before the field existed get them added by the summary, new ones carry them
    let old = ReactionRecord {
        n_atoms: 4,
        gradient_calls: 100,
        hessian_calls: 3,
        fd_gradients_included: false,
        ..rec("a", "gfn2", true, true)
    };
    let new = ReactionRecord { gradient_calls: 100 + 3 * 25, fd_gradients_included: true, ..old.clone() };
    let names = vec!["a".to_string()];
    for r in [old, new] {
        let s = rb::summarize(std::slice::from_ref(&r), "gfn2", &names);
        assert_eq!(s.mean_gradient_calls, 175.0, "{r:?}");
    }
    // the model's Hessians are passes of the network, not gradient calls
    assert_eq!(rb::fd_singlepoints("direct", 10), 0);
    assert_eq!(rb::fd_singlepoints("gfn2", 10), 61);
}
