//! `hip`: the command-line front end. Each subcommand lives in its own module and only parses
//! arguments, calls library code and prints; errors are one line on stderr and exit code 1.

mod data;
mod freq;
mod input;

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
    /// Harmonic frequencies, ZPE and classification of a molecule from a Hessian.
    Freq(freq::FreqArgs),
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Data(cmd) => data::run(cmd),
        Command::Freq(args) => freq::run(args),
    };
    if let Err(e) = result {
        eprintln!("error: {}", e.to_string().replace('\n', " "));
        std::process::exit(1);
    }
}
