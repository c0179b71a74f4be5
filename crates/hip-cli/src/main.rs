//! `hip`: the command-line front end. Each subcommand lives in its own module and only parses
//! arguments, calls library code and prints; errors are one line on stderr and exit code 1.

mod batch_bench;
mod bench;
mod data;
mod freq;
mod input;
mod model_cmds;
mod model_io;
mod reactbench;
mod reaction;
mod report_sections;
mod surface;
mod train_bench;

use clap::{Parser, Subcommand};

/// Hessians, vibrational analysis and datasets for machine-learned potentials (hip-rs).
#[derive(Parser, Debug)]
#[command(name = "hip", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Inspect and validate HDF5 Hessian datasets.
    #[command(subcommand)]
    Data(data::DataCommand),
    /// Harmonic frequencies, ZPE and classification (from a Hessian file or the model).
    Freq(freq::FreqArgs),
    /// The Hessian of a molecule from the model (direct, autodiff or finite differences).
    Hessian(model_cmds::HessianArgs),
    /// Geometry optimization on the model (RFO with model Hessians, BFGS or FIRE).
    Opt(model_cmds::OptArgs),
    /// Transition-state search (RS-P-RFO) on the model.
    Ts(model_cmds::TsArgs),
    /// From reactant and product to a verified TS: NEB, TS search, frequencies, IRC, ends.
    Reaction(reaction::ReactionArgs),
    /// Climbing-image NEB between reactant and product (IDPP initial band).
    Neb(reaction::NebArgs),
    /// The IRC from a transition state in both directions, ends minimized.
    Irc(reaction::IrcArgs),
    /// Train a model on a dataset.
    Train(model_cmds::TrainArgs),
    /// Evaluate a model on a dataset split (section-6 metrics).
    Eval(model_cmds::EvalArgs),
    /// Benchmark direct vs autodiff vs finite-difference Hessians (speed, memory, accuracy).
    Bench(bench::BenchArgs),
    /// The main job: evaluate the shipped model (accuracy, frequencies, TS search, speed) and
    /// write reports/REPORT.md.
    Report(bench::ReportArgs),
    /// Check a device and precision against the CPU in f64: energy, forces and the three
    /// Hessians of water and a 30-atom alkane, with stated tolerances (exit 1 on a failure).
    DeviceCheck(bench::DeviceCheckArgs),
    /// Internal: one (reaction, provider) run of `hip bench reactions`, in a worker process.
    #[command(hide = true)]
    BenchReactionJob(reactbench::JobArgs),
    /// Internal: memory probe run in a child process by `hip bench`.
    #[command(hide = true)]
    BenchProbe(bench::ProbeArgs),
}

/// A closed standard output (`hip data info F.h5 | head -3`) ends the command quietly with the
/// shell's status for SIGPIPE, as Unix tools do. Rust ignores SIGPIPE, so `println!` into a
/// closed pipe panics ("failed printing to stdout: Broken pipe"); every other panic keeps the
/// default report.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg =
            payload.downcast_ref::<String>().map(String::as_str).or_else(|| payload.downcast_ref::<&str>().copied());
        if msg.is_some_and(|m| m.contains("failed printing to stdout") && m.contains("Broken pipe")) {
            std::process::exit(141);
        }
        default(info)
    }));
}

fn main() {
    quiet_on_broken_pipe();
    hip_model::enable_second_order_autodiff();
    let cli = Cli::parse();
    let result: Result<(), String> = match cli.command {
        Command::Data(cmd) => data::run(cmd).map_err(|e| e.to_string()),
        Command::Freq(args) => freq::run(args),
        Command::Hessian(a) => model_cmds::hessian(a),
        Command::Opt(a) => model_cmds::opt(a),
        Command::Ts(a) => model_cmds::ts(a),
        Command::Reaction(a) => reaction::reaction(a),
        Command::Neb(a) => reaction::neb_cmd(a),
        Command::Irc(a) => reaction::irc_cmd(a),
        Command::Train(a) => model_cmds::train(a),
        Command::Eval(a) => model_cmds::eval(a),
        Command::Bench(a) => bench::bench(a),
        Command::Report(a) => bench::report_cmd(a),
        Command::BenchProbe(a) => bench::probe(a),
        Command::BenchReactionJob(a) => reactbench::job(a),
        Command::DeviceCheck(a) => bench::device_check(a),
    };
    if let Err(e) = result {
        eprintln!("error: {}", e.to_string().replace('\n', " "));
        std::process::exit(1);
    }
}
