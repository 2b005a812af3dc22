//! One integration-test binary, a module per topic (links once on 2 cores).

mod allocator;
mod async_tasks;
mod bad_input;
mod c_guests;
mod cargo_interlace;
mod corpus;
mod differential;
mod docs;
mod dpor;
mod entries;
mod examples;
mod fairness;
mod guests;
mod html;
mod jobs;
mod json;
mod minimise;
mod pct;
mod pos;
mod races;
mod recycled_memory;
mod replay;
mod runtime;
mod schedules;
mod stack_filter;
mod wat_guests;
