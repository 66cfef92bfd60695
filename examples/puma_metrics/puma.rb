# frozen_string_literal: true

# Puma in cluster mode: 4 workers forked from a master that loaded the app
# (and so created the shared counters) first.
#
#   puma -C examples/puma_metrics/puma.rb -b tcp://127.0.0.1:9292 examples/puma_metrics/config.ru
#   curl http://127.0.0.1:9292/metrics

workers Integer(ENV.fetch("WEB_CONCURRENCY", "4"))
threads 4, 4
preload_app!
environment "production"

# A worker that Puma (re)starts takes its predecessor's unfinished requests
# off the in-flight gauges.
on_worker_boot { |index| METRICS.worker_booted(index) }
