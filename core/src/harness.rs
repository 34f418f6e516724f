//! A sans-IO cluster in memory, in the style of quinn-proto's `Pair`
//! (`quinn-proto/src/tests/util.rs`): one [`SupervisorMachine`] and scripted workers
//! ([`Script`]: honest, slow, silent, lying, twins, oversized, flooding, crashing,
//! boasting), with time that jumps to the next wake-up and no runtime at all, so
//! supervisor behaviour can be property-tested by the thousand. Feature `harness`
//! (always on in core's own tests).
//!
//! The cluster plays the driver's part as the real one does (see
//! [`crate::Supervisor`]): an execute call ends with its reply or, after the task's
//! timeout plus a grace, [`LinkError::Timeout`]; a cancel or a new call for the same
//! task and worker aborts the old call (its reply is never reported); heartbeats reply
//! after a millisecond; scale-ups find no capacity. Everything is seeded
//! ([`SeededRng`]) and ordered (events by time, then by when they were scheduled), so
//! one seed is one run.
//!
//! ```
//! use quorum_core::harness::{Answers, Cluster, Script};
//! use quorum_core::{SupervisorConfig, Task, WorkerId};
//!
//! let scripts = [Script::Honest, Script::Honest, Script::Lying];
//! let workers = scripts.iter().enumerate().map(|(i, s)| (WorkerId::from(format!("w{i}")), *s));
//! let config = SupervisorConfig::default().fit_to_workers(3);
//! let mut cluster = Cluster::new(config, workers.collect(), 7).unwrap();
//! let answers = Answers { truth: "4".into(), lie: "5".into() };
//! cluster.submit_at(0, Task::new("t1", "What is 2 + 2?"), answers);
//! cluster.drive_bounded(100_000).unwrap();
//! assert_eq!(cluster.results().len(), 1);
//! ```

mod event;
mod script;

#[cfg(test)]
mod properties;

use std::collections::{BTreeMap, BTreeSet};

use crate::config::ConfigError;
use crate::link::{ExecuteRequest, LinkError, WorkerAnswer};
use crate::result::TaskResult;
use crate::rng::SeededRng;
use crate::scaler::ScaleError;
use crate::supervisor::{Command, Deadlines, MachineInvariant, SubmitError, SupervisorConfig, SupervisorMachine};
use crate::task::Task;
use crate::{TaskId, WorkerId};

use event::Event;
pub use script::{Answers, Oversize, SCRIPTED_CAPACITY, Script};

/// Why a run of the cluster stopped short.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum HarnessError {
    /// `drive_bounded` ran out of steps: a livelock, or a bound too small.
    #[error("no end after {steps} steps (at {now_ms} ms)")]
    StepLimit {
        /// Steps taken.
        steps: usize,
        /// The cluster's time then.
        now_ms: u64,
    },
    /// The machine broke an invariant (reported here in release builds without
    /// `check_invariants`; otherwise the machine panics on it first).
    #[error("step {step} at {now_ms} ms: {broken}")]
    Invariant {
        /// The step after which it was found.
        step: usize,
        /// The cluster's time then.
        now_ms: u64,
        /// What broke.
        broken: MachineInvariant,
    },
    /// A submission was refused.
    #[error("submitting {task} at {now_ms} ms: {error}")]
    Submit {
        /// Which task.
        task: TaskId,
        /// The cluster's time then.
        now_ms: u64,
        /// Why.
        error: SubmitError,
    },
}

/// What the cluster saw of one task: whom the machine asked (in which rounds) and
/// every answer any worker sent for it, refused or not.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskLog {
    /// `(worker, round)` of every execute command.
    pub asked: BTreeSet<(WorkerId, u32)>,
    /// Every answer sent for the task, on a call or pushed.
    pub sent: Vec<WorkerAnswer>,
}

/// One scripted worker.
#[derive(Debug)]
struct ScriptedWorker {
    script: Script,
    rng: SeededRng,
}

/// One supervisor machine and its scripted workers in memory.
#[derive(Debug)]
pub struct Cluster {
    machine: SupervisorMachine,
    deadlines: Deadlines,
    workers: BTreeMap<WorkerId, ScriptedWorker>,
    now_ms: u64,
    /// Scheduled inputs, by (time, order of scheduling).
    events: BTreeMap<(u64, u64), Event>,
    scheduled: u64,
    /// The live execute call per (task, worker): its scheduling number.
    calls: BTreeMap<(TaskId, WorkerId), u64>,
    answers: BTreeMap<TaskId, Answers>,
    /// Submissions accepted by the machine.
    accepted: BTreeSet<TaskId>,
    logs: BTreeMap<TaskId, TaskLog>,
    results: Vec<TaskResult>,
    steps: usize,
}

impl Cluster {
    /// A cluster of `workers`, all joined at time 0, every draw seeded by `seed`.
    /// The cluster checks the machine's invariants after every step, and reports a
    /// broken one as [`HarnessError::Invariant`] (in debug builds, or with
    /// `check_invariants` on, the machine panics on it first).
    ///
    /// # Errors
    /// [`ConfigError`] for an invalid config.
    pub fn new(config: SupervisorConfig, workers: Vec<(WorkerId, Script)>, seed: u64) -> Result<Self, ConfigError> {
        // An execute call ends with a timeout at the config's deadline, as in the
        // driver.
        let deadlines = config.deadlines.clone();
        let mut machine = SupervisorMachine::new(config)?;
        for (worker, _) in &workers {
            machine.handle_worker_joined(worker.clone(), 0);
        }
        let workers = workers
            .into_iter()
            .map(|(id, script)| {
                let rng = SeededRng::derive(seed, id.as_str());
                (id, ScriptedWorker { script, rng })
            })
            .collect();
        Ok(Self {
            machine,
            deadlines,
            workers,
            now_ms: 0,
            events: BTreeMap::new(),
            scheduled: 0,
            calls: BTreeMap::new(),
            answers: BTreeMap::new(),
            accepted: BTreeSet::new(),
            logs: BTreeMap::new(),
            results: Vec::new(),
            steps: 0,
        })
    }

    /// Schedules the submission of `task` at `at_ms` (not before the cluster's time);
    /// `answers` are what its workers say.
    pub fn submit_at(&mut self, at_ms: u64, task: Task, answers: Answers) {
        self.answers.insert(task.id.clone(), answers);
        self.schedule(at_ms.max(self.now_ms), Event::Submit(task));
    }

    /// Runs until every submitted task has its result, then shuts the machine down
    /// and runs until nothing is left to happen (late replies included), taking at
    /// most `max_steps` steps in all. Returns the steps taken.
    ///
    /// # Errors
    /// [`HarnessError`] when the bound is reached, an invariant broke or a
    /// submission was refused.
    pub fn drive_bounded(&mut self, max_steps: usize) -> Result<usize, HarnessError> {
        while self.step()? {
            if self.steps >= max_steps {
                return Err(HarnessError::StepLimit { steps: self.steps, now_ms: self.now_ms });
            }
        }
        Ok(self.steps)
    }

    /// Feeds the machine its next input: the earliest scheduled event or its own
    /// wake-up, whichever comes first, jumping time to it. Returns whether anything
    /// happened.
    ///
    /// # Errors
    /// As [`Self::drive_bounded`].
    pub fn step(&mut self) -> Result<bool, HarnessError> {
        if self.is_settled() && !self.machine.is_shutting_down() {
            self.machine.shutdown(self.now_ms);
            self.after_input()?;
            return Ok(true);
        }
        let next_event = self.events.keys().next().copied();
        let wake_up = self.machine.poll_timeout();
        match (next_event, wake_up) {
            (None, None) => return Ok(false),
            (Some((at_ms, _)), Some(wake_ms)) if wake_ms < at_ms => self.wake(wake_ms),
            (None, Some(wake_ms)) => self.wake(wake_ms),
            (Some(key), _) => {
                let event = self.events.remove(&key).expect("the first key was just read");
                self.now_ms = self.now_ms.max(key.0);
                self.apply(event)?;
            }
        }
        self.after_input()?;
        Ok(true)
    }

    /// Every result so far, in the order the machine emitted them.
    pub fn results(&self) -> &[TaskResult] {
        &self.results
    }

    /// The tasks the machine accepted.
    pub fn accepted(&self) -> &BTreeSet<TaskId> {
        &self.accepted
    }

    /// What the cluster saw of `task`.
    pub fn log(&self, task: &TaskId) -> Option<&TaskLog> {
        self.logs.get(task)
    }

    /// The machine, to read its stats, workers and invariants.
    pub fn machine(&self) -> &SupervisorMachine {
        &self.machine
    }

    /// The cluster's time.
    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    /// Whether every scheduled submission was made and every accepted task has its
    /// result.
    fn is_settled(&self) -> bool {
        let submissions_left = self.events.values().any(|e| matches!(e, Event::Submit(_)));
        let finished: BTreeSet<&TaskId> = self.results.iter().map(|r| &r.task).collect();
        !submissions_left && self.accepted.iter().all(|t| finished.contains(t))
    }

    fn wake(&mut self, wake_ms: u64) {
        self.now_ms = self.now_ms.max(wake_ms);
        self.machine.handle_timeout(self.now_ms);
    }

    fn schedule(&mut self, at_ms: u64, event: Event) {
        self.scheduled += 1;
        self.events.insert((at_ms, self.scheduled), event);
    }

    /// After any input: check the invariants, collect results, carry out commands.
    fn after_input(&mut self) -> Result<(), HarnessError> {
        self.steps += 1;
        self.machine.assert_invariants().map_err(|broken| HarnessError::Invariant {
            step: self.steps,
            now_ms: self.now_ms,
            broken,
        })?;
        while let Some(result) = self.machine.poll_result() {
            self.results.push(result);
        }
        while let Some(command) = self.machine.poll_command() {
            self.carry_out(command);
        }
        Ok(())
    }

    fn apply(&mut self, event: Event) -> Result<(), HarnessError> {
        let now_ms = self.now_ms;
        match event {
            Event::Submit(task) => {
                let id = task.id.clone();
                match self.machine.handle_submit(task, None, now_ms) {
                    Ok(_) => {
                        self.accepted.insert(id);
                    }
                    Err(error) => return Err(HarnessError::Submit { task: id, now_ms, error }),
                }
            }
            Event::CallReturned { call, worker, task, attempt, outcome } => {
                // A call aborted by a cancel or a newer call never reports.
                if self.calls.get(&(task.clone(), worker.clone())) == Some(&call) {
                    self.calls.remove(&(task.clone(), worker.clone()));
                    if let Ok(answer) = &outcome {
                        self.logs.entry(task.clone()).or_default().sent.push(answer.clone());
                    }
                    self.machine.handle_answer(&worker, &task, attempt, outcome, now_ms);
                }
            }
            Event::Pushed(answer) => {
                self.logs.entry(answer.task.clone()).or_default().sent.push(answer.clone());
                self.machine.handle_delivered(answer, now_ms);
            }
            Event::Heartbeat { worker, outcome } => self.machine.handle_heartbeat(&worker, outcome, now_ms),
            Event::ScaledUp { requested } => {
                self.machine.handle_scaled_up(requested, Err(ScaleError::NoCapacity), now_ms);
            }
            Event::ScaledDown { worker } => self.machine.handle_scaled_down(&worker, Ok(()), now_ms),
        }
        Ok(())
    }

    fn carry_out(&mut self, command: Command) {
        let now_ms = self.now_ms;
        match command {
            Command::Execute { worker, request } => self.execute(worker, request),
            Command::Cancel { worker, task } => {
                self.calls.remove(&(task, worker));
            }
            Command::Heartbeat { worker } => {
                let load = self.calls.keys().filter(|(_, w)| *w == worker).count();
                let Some(scripted) = self.workers.get(&worker) else { return };
                let load = u32::try_from(load).unwrap_or(u32::MAX);
                let outcome = script::heartbeat(scripted.script, &worker, load, now_ms);
                self.schedule(now_ms + 1, Event::Heartbeat { worker, outcome });
            }
            Command::ScaleUp { count } => self.schedule(now_ms + 1, Event::ScaledUp { requested: count }),
            Command::ScaleDown { worker } => self.schedule(now_ms + 1, Event::ScaledDown { worker }),
        }
    }

    fn execute(&mut self, worker: WorkerId, request: ExecuteRequest) {
        let now_ms = self.now_ms;
        self.logs.entry(request.task.clone()).or_default().asked.insert((worker.clone(), request.attempt));
        let others: Vec<TaskId> = self.answers.keys().cloned().collect();
        let (Some(scripted), Some(answers)) = (self.workers.get_mut(&worker), self.answers.get(&request.task)) else {
            return;
        };
        let reaction = script::react(scripted.script, &worker, &request, answers, &others, now_ms, &mut scripted.rng);
        let limit_ms = self.deadlines.execute_call_ms(request.timeout_ms);
        let (delay_ms, outcome) = match reaction.reply {
            Some((delay_ms, outcome)) if delay_ms <= limit_ms => (delay_ms, outcome),
            _ => (limit_ms, Err(LinkError::Timeout)),
        };
        for (pushed_ms, answer) in reaction.pushed {
            self.schedule(now_ms + pushed_ms, Event::Pushed(answer));
        }
        // The call is known by its scheduling number; a newer call for the same task
        // and worker replaces it, as the driver aborts the older one.
        let call = self.scheduled + 1;
        self.calls.insert((request.task.clone(), worker.clone()), call);
        let returned = Event::CallReturned { call, worker, task: request.task, attempt: request.attempt, outcome };
        self.schedule(now_ms + delay_ms, returned);
    }
}
