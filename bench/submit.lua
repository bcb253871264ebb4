-- wrk script for run_submit.py: one simulated pupil per wrk thread (run with -t N -c N).
-- SENIM_BENCH_PLAN names a Lua file returning {requests = {{{method, path, headers, body}, ...}, ...}, expect = "..."}:
-- thread i cycles through its own list, so each pupil's answers are sequential like a phone's.
local plan = dofile(os.getenv("SENIM_BENCH_PLAN"))
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

function init(args)
  local mine = plan.requests[(id - 1) % #plan.requests + 1]
  prepared = {}
  for i, r in ipairs(mine) do
    prepared[i] = wrk.format(r[1], r[2], r[3], r[4])
  end
  step = 0
  bad = 0
  expect_status = plan.expect_status
  expect_location = plan.expect_location
end

function request()
  step = step % #prepared + 1
  return prepared[step]
end

function response(status, headers, body)
  if status ~= expect_status then
    bad = bad + 1
  elseif expect_location and not string.find(headers["Location"] or headers["location"] or "", expect_location, 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local unexpected = 0
  for _, t in ipairs(threads) do
    unexpected = unexpected + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'SENIM_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"mean_us": %.1f, "unexpected": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean, unexpected, e.connect, e.read, e.write, e.status, e.timeout))
end
