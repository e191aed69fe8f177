//! `campaign show PLAN`: a saved plan, as text or as the `plan --json` document.

use std::io::{self, BufWriter};

use crate::cli::ShowArgs;
use crate::exit::Exit;
use crate::plan::human::HumanPlan;
use crate::plan::json::{JsonWriter, WRITE_BUFFER};
use crate::plan::saved;
use crate::style::Style;

pub fn run(args: &ShowArgs) -> anyhow::Result<Exit> {
    if args.json {
        return show_json(args);
    }
    let mut human = HumanPlan::new();
    let (header, trailer) = saved::read(&args.plan, &mut |record| human.add(&record))?;
    human.print(
        &mut io::stdout().lock(),
        &header.plan,
        &trailer.summary,
        Style::for_stdout(),
    )?;
    println!("\nInputs, as hashed when the plan was made:");
    for input in &trailer.inputs {
        println!(
            "  {:<10} {}  {}",
            input.role,
            &input.sha256[..input.sha256.len().min(16)],
            input.path.display()
        );
    }
    Ok(Exit::Success)
}

/// Replays the saved plan as the `plan --json` document, streaming its messages.
fn show_json(args: &ShowArgs) -> anyhow::Result<Exit> {
    // The header comes first in the document, so read it before streaming the messages.
    let header = saved::header(&args.plan)?;
    let mut writer = JsonWriter::begin(
        BufWriter::with_capacity(WRITE_BUFFER, io::stdout()),
        &header.plan,
    )?;
    let mut failure = None;
    let (_, trailer) = saved::read(&args.plan, &mut |record| {
        if failure.is_none() {
            failure = writer.message(&record).err();
        }
    })?;
    if let Some(error) = failure {
        return Err(error.into());
    }
    writer.finish(&trailer.summary, &[])?;
    Ok(Exit::Success)
}
