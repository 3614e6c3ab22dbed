"""Model affinity (scheduler rule 4): a free worker may take a job of the head's round that its loaded
models render without a switch; fairness holds as without it (hypothesis)."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import Priority
from bot.scheduler import FairScheduler
from tests.factories import make_job
from tests.test_scheduler import assert_bounded_overtaking

users = st.integers(min_value=1, max_value=6)
models = st.sampled_from(["a", "b", "c"])
priorities = st.sampled_from(list(Priority))
# push (user, priority, model) or pop with the worker holding a set of models
operations = st.lists(st.one_of(st.tuples(users, priorities, models), st.frozensets(models)), max_size=120)


def _run(ops):
    sched = FairScheduler()
    pushed, popped, facts = [], [], {}
    for op in ops:
        if isinstance(op, frozenset):
            batch = sched.pop_batch(0, prefer=lambda job, held=op: job.params.model in held)
            popped.extend(batch)
            continue
        user, prio, model = op
        job = make_job(user_id=user, priority=prio, model=model)
        same = [j for j in sched.jobs() if j.user_id == user and j.priority == prio]
        facts[job.id] = {"ahead_mine": len(same), "order": len(pushed)}
        sched.push(job)
        pushed.append(job)
    while batch := sched.pop_batch(0, prefer=lambda job: job.params.model == "a"):
        popped.extend(batch)
    return pushed, popped, facts


@settings(max_examples=300, deadline=None)
@given(operations)
def test_with_affinity_a_users_jobs_keep_their_order_and_all_run(ops):
    pushed, popped, _ = _run(ops)
    assert sorted(j.id for j in popped) == sorted(j.id for j in pushed)
    seen: dict[tuple, int] = {}
    for job in popped:
        key = (job.user_id, job.priority)
        assert job.id > seen.get(key, 0), "a user's later job ran before an earlier one"
        seen[key] = job.id


@settings(max_examples=300, deadline=None)
@given(operations)
def test_with_affinity_later_jobs_overtake_a_job_only_by_bounded_fair_share(ops):
    """The fair-share bound of test_scheduler.py, with a preference at every pop: a job with k of
    its owner's jobs ahead is overtaken by at most k+1 later jobs of each other user."""
    assert_bounded_overtaking(*_run(ops))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(users, models), min_size=1, max_size=60), st.lists(st.frozensets(models), min_size=60,
                                                                              max_size=60))
def test_with_affinity_a_burst_still_runs_round_by_round(burst, held):
    """Everything queued at once: every user's n-th job runs before anyone's (n+1)-th, whatever
    the workers hold."""
    sched = FairScheduler()
    rank, counts = {}, {}
    for user, model in burst:
        job = make_job(user_id=user, model=model)
        counts[user] = counts.get(user, 0) + 1
        rank[job.id] = counts[user]
        sched.push(job)
    order = [rank[sched.pop_batch(0, prefer=lambda j, h=h: j.params.model in h)[0].id] for h in held[:len(burst)]]
    assert order == sorted(order)


def test_a_worker_takes_the_job_of_the_round_its_model_renders_but_not_one_of_the_next_round():
    sched = FairScheduler()
    first = make_job(user_id=1, model="a")
    second = make_job(user_id=2, model="b")
    later = make_job(user_id=1, model="b")  # user 1's second job: the next round
    for job in (first, second, later):
        sched.push(job)
    assert sched.pop_batch(0, prefer=lambda j: j.params.model == "b") == [second]
    assert sched.pop_batch(0, prefer=lambda j: j.params.model == "b") == [first]  # "later" waits its round
    assert sched.pop_batch(0, prefer=lambda j: j.params.model == "b") == [later]


def test_without_a_preferred_job_in_the_round_the_head_runs():
    sched = FairScheduler()
    head, other = make_job(user_id=1, model="a"), make_job(user_id=2, model="a")
    sched.push(head)
    sched.push(other)
    assert sched.pop_batch(0, prefer=lambda j: j.params.model == "z") == [head]


def test_worker_models_follow_the_batches_sent_least_recently_used_out():
    from bot.services.model_affinity import WorkerModels

    held = WorkerModels("a", cache_size=2)
    worker, other = object(), object()
    assert held.held(worker) == ["a"]
    held.used(worker, "b")
    held.used(worker, "c")  # "a" is the least recently used of three: gone, as in the renderer's cache
    assert held.held(worker) == ["b", "c"] and held.held(other) == ["a"]
    prefer = held.prefer(worker)
    assert prefer(make_job(model="c")) and not prefer(make_job(model="a"))
