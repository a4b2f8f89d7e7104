//! The `pse-trainer` command line.

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use pse_trainer::cli;
use std::process::ExitCode;

/// Train, evaluate, plot and export Probabilistic Semantic Embedding models (PSE / PSE*).
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a model into a run folder (checkpoint, config.json, train-log.jsonl).
    Train(cli::train::TrainArgs),
    /// Evaluate a run the paper's way: reconstruction error, annotation accuracy and
    /// generation accuracy (judged by a cached classifier); prints a table beside the
    /// paper's numbers and writes RUN/metrics.json.
    Eval(cli::evaluate::EvalArgs),
    /// Train (or load from data/cache) the judge classifier that measures generation
    /// accuracy, and print its training and test accuracy.
    Judge(cli::judge::JudgeArgs),
    /// Summarise several evaluated runs as one Markdown table: mean ± std over seeds of
    /// each (dataset, model, latent, labels, left-out classes, recipe), beside the paper's
    /// numbers, and Welch's t-test of GloVe against one-hot labels where both are there.
    Summarize(cli::summarize::SummarizeArgs),
    /// Compare PSE and PSE* with the paper's baselines (CVAE, JMVAE, TrELBO, SCAN) under
    /// one recipe: trains every model over several seeds (plus PSE* at a second latent
    /// size), evaluates them with the same code, writes OUT/comparison.md (mean ± std
    /// beside the paper's Tables 1 and 2) and OUT/latent-2d.png (the 2-D latent spaces side
    /// by side, the paper's Fig. 2). Finished runs are kept: calling it again continues.
    Compare(cli::compare::CompareArgs),
    /// Draw a run's pictures: samples per label, interpolation strips between labels and
    /// the latent space of the test images coloured by label (PNG files); for runs trained
    /// on word vectors also mixes of two labels' words and words never seen in training.
    Plot(cli::plot::PlotArgs),
    /// Benchmark training throughput: steps/s of the real training step on one thread and on
    /// every core, and its matrix products' rate against this CPU's measured multiply-add
    /// peak (a table, or JSON with --json; not a test).
    Bench(cli::bench::BenchArgs),
    /// Export a run as a pse-runtime blob (f32, f16, i8 or i4 weights; whole, or the parts
    /// annotation needs), with its "unknown"
    /// threshold calibrated on the held-out images and a JSON model card beside it
    /// (sizes, SHA-256, training, float metrics, the blob's own test-set accuracy).
    Export(cli::export::ExportArgs),
    /// Measure a blob on a test set through pse-runtime: annotation accuracy and the share
    /// of images it calls unknown.
    Score(cli::score::ScoreArgs),
    /// Measure a blob's "unknown" verdict on out-of-distribution images (noise, blank,
    /// saturated, inverted digits, the other dataset) against its own test set: the share
    /// flagged and the AUROC of each score.
    Ood(cli::ood::OodArgs),
    /// What a blob holds (layers, encodings, labels, thresholds) and what it needs on a
    /// device before flashing: exact scratch, flash, peak RAM and instructions per
    /// operation on a measured target, and which common boards it fits.
    Inspect(cli::inspect::InspectArgs),
    /// Calibrate a blob's unknown threshold and open-world bounds on held-out images with
    /// the blob itself, and write it in the current format (upgrades older blobs; a blob
    /// without a decoder gets the latent threshold only).
    Calibrate(cli::calibrate::CalibrateArgs),
    /// Print a shell completion script, e.g. `pse-trainer completions bash >
    /// ~/.local/share/bash-completion/completions/pse-trainer`.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Annotate PNG or IDX images with a blob through pse-runtime: one line per image
    /// (file[#index], label or "unknown (nearest: X)", posterior of the best label).
    Annotate(cli::annotate::AnnotateArgs),
    /// Draw images of a label with a blob through pse-runtime, as a PNG grid; or, for models
    /// trained on word vectors, of any word (--word) or mix of two (--words --mix).
    Generate(cli::generate::GenerateArgs),
    /// Add a label to a blob, learnt from a few images through pse-runtime's enrollment
    /// (the device's arithmetic): a new class without retraining.
    Enroll(cli::enroll::EnrollArgs),
    /// Measure enrollment: enroll a class the blob lacks from a few random training images
    /// of it, several times, and compare test-set annotation accuracy before and after
    /// (the class itself and every other class).
    EnrollEval(cli::enroll::EnrollEvalArgs),
    /// Word vectors (GloVe): nearest neighbours of a word among the vocabulary and among a
    /// model's labels.
    Words(pse_trainer::data::words::WordsArgs),
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let run_options_given = matches.subcommand_matches("train").is_some_and(|m| {
        cli::train::RUN_OPTIONS
            .iter()
            .any(|id| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
    });
    let result = match cli.command {
        Command::Train(a) => cli::train::run_train(a, run_options_given),
        Command::Eval(a) => cli::evaluate::run_eval(a),
        Command::Plot(a) => cli::plot::run_plot(a),
        Command::Summarize(a) => cli::summarize::run_summarize(a),
        Command::Compare(a) => cli::compare::run_compare(a),
        Command::Judge(a) => cli::judge::run_judge(a),
        Command::Bench(a) => cli::bench::run_bench(a),
        Command::Export(a) => cli::export::run_export(a),
        Command::Score(a) => cli::score::run_score(a),
        Command::Ood(a) => cli::ood::run_ood(a),
        Command::Calibrate(a) => cli::calibrate::run_calibrate(a),
        Command::Inspect(a) => cli::inspect::run_inspect(a),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "pse-trainer",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Annotate(a) => cli::annotate::run_annotate(a),
        Command::Generate(a) => cli::generate::run_generate(a),
        Command::Enroll(a) => cli::enroll::run_enroll(a),
        Command::EnrollEval(a) => cli::enroll::run_enroll_eval(a),
        Command::Words(a) => match a.command {
            pse_trainer::data::words::WordsCommand::Nearest(n) => {
                pse_trainer::data::words::run_nearest(n)
            }
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
