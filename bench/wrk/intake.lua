-- Alertmanager webhook posts for wrk: each post carries BENCH_ALERTS_PER_POST firing alerts and
-- differs from every other (an identical body would be answered as Alertmanager retrying).
local token = os.getenv("BENCH_INTAKE_TOKEN")
local per_post = tonumber(os.getenv("BENCH_ALERTS_PER_POST") or "10")
local next_id = 0
local posted = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
end

function init(args)
  math.randomseed(os.time() * 1000 + id)
  prefix = string.format("%d-%d", id, math.random(1, 1000000000))
  headers = {
    ["Authorization"] = "Bearer " .. token,
    ["Content-Type"] = "application/json",
  }
end

function request()
  posted = posted + 1
  local alerts = {}
  for n = 1, per_post do
    alerts[n] = string.format(
      '{"status":"firing","labels":{"alertname":"BenchAlert","severity":"warning",' ..
      '"instance":"10.0.%d.%d:9100","post":"%s-%d"},' ..
      '"annotations":{"summary":"benchmark alert %d"},' ..
      '"startsAt":"2026-12-01T10:00:00Z","endsAt":"0001-01-01T00:00:00Z",' ..
      '"generatorURL":"http://prometheus.bench.invalid:9090/graph","fingerprint":"%08x%08x"}',
      n % 250, posted % 250, prefix, posted, n, id * 100000 + n, posted)
  end
  local body = '{"version":"4","groupKey":"{}:{alertname=\\"BenchAlert\\"}",' ..
    '"truncatedAlerts":0,"status":"firing","receiver":"sae-console",' ..
    '"groupLabels":{"alertname":"BenchAlert"},"commonLabels":{"alertname":"BenchAlert"},' ..
    '"commonAnnotations":{},"externalURL":"http://alertmanager.bench.invalid:9093",' ..
    '"alerts":[' .. table.concat(alerts, ",") .. ']}'
  return wrk.format("POST", nil, headers, body)
end
