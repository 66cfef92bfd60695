# frozen_string_literal: true

# A Rack app for Puma in cluster mode (see puma.rb) that counts its requests
# in shared memory (see metrics.rb) and serves the totals of all workers at
# GET /metrics, in the Prometheus text format. With `preload_app!` this file
# is loaded once in the master, before the workers are forked, so every
# worker shares METRICS.
#
#   GET /         "hello"
#   GET /slow     sleeps `ms` milliseconds (default 50, at most 10,000)
#   GET /metrics  the metrics (not counted themselves)

require "uri"
require_relative "metrics"

WORKERS = Integer(ENV.fetch("WEB_CONCURRENCY", "4"))
METRICS = Metrics.new(routes: %w[/ /slow], workers: WORKERS)

text = ->(status, body) { [status, { "content-type" => "text/plain" }, [body]] }

app = lambda do |env|
  case env["PATH_INFO"]
  when "/"
    text.call(200, "hello\n")
  when "/slow"
    milliseconds = URI.decode_www_form(env["QUERY_STRING"].to_s).to_h.fetch("ms", "50").to_i.clamp(0, 10_000)
    sleep(milliseconds / 1000.0)
    text.call(200, "done\n")
  else
    text.call(404, "not found\n")
  end
end

run(lambda do |env|
  path = env["PATH_INFO"]
  if path == "/metrics"
    [200, { "content-type" => "text/plain; version=0.0.4" }, [METRICS.to_prometheus]]
  else
    METRICS.track(path) { app.call(env) }
  end
end)
