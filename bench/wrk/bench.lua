-- wrk script shared by every run of bench/run.
--
-- With BENCH_PATHS set to a file of request targets (path and query, one per line), the
-- requests cycle through them, each connection taking the next one (the signed-URL
-- variant with 1,000 distinct URLs). Without it there is no request() function, so wrk
-- keeps its fast path of one pre-built request.
--
-- done() prints the summary as one line, "WRKJSON {...}", for `benchkit measure`.

local file = os.getenv("BENCH_PATHS")
if file and file ~= "" then
  local reqs = {}
  local i = 0
  init = function(args)
    for line in io.lines(file) do
      if line ~= "" then
        reqs[#reqs + 1] = wrk.format(nil, line)
      end
    end
    if #reqs == 0 then
      error("BENCH_PATHS " .. file .. " has no request targets")
    end
  end
  request = function()
    i = i % #reqs + 1
    return reqs[i]
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"mean_us":%.1f,"latency_us":{"min":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.min, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
