//! scratch
use msctp_sim::scenario;

#[test]
fn scratch() {
    for run in [
        scenario::normal(1),
        scenario::failover(1, scenario::Failure::Reject),
        scenario::failover(1, scenario::Failure::Drop),
    ] {
        println!("==== {}\n{}", run.name, run.ladder_text());
        println!("{}", run.events_text());
        println!("{:#?}", run.milestones);
        println!("{:#?}", run.phases);
        println!("{:?}", run.messages.received_numbers());
        println!("{:?}", run.messages.echoed_numbers());
        for l in &run.links {
            println!("{l:?}");
        }
    }
}
