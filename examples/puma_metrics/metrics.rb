# frozen_string_literal: true

require "process_shared"

# Request metrics for every worker of a Puma cluster, kept in shared memory
# created by the master before it forks (with `preload_app!`): one set of
# counters for the whole server, updated with lock-free atomic operations,
# so `/metrics` from any worker reports the totals of all of them. There
# are no per-process files to sum, and nothing to clean up after a worker
# dies: what it counted stays counted.
#
# Per route:
# - `http_requests_total`: requests received (a counter);
# - `http_requests_in_flight`: requests being served now (a gauge);
# - `http_requests_in_flight_peak`: the most served at once (a gauge).
# Per worker slot, `puma_worker_boots_total`: how often Puma has (re)started
# the worker in that slot.
#
# A worker killed in the middle of a request never finishes it, so the
# in-flight gauges would keep it for ever. Each worker therefore also counts
# its own requests in flight in a slot of its own, and its successor (Puma
# reuses the slot index) takes what is left there off the gauges when it
# boots. (A kill in the few nanoseconds between the two increments, or the
# two decrements, can still leave a gauge off by one.)
class Metrics
  # The label of every route not in the list.
  OTHER = "other"

  attr_reader :routes

  # @param routes [Array<String>] the paths counted each under its own label
  # @param workers [Integer] Puma's worker count
  def initialize(routes:, workers:)
    @routes = (routes + [OTHER]).freeze
    @route_index = @routes.each_with_index.to_h.freeze
    @workers = workers
    @worker = 0 # single mode: the only worker
    @requests = ProcessShared::SharedArray.new(:uint64, @routes.size)
    @in_flight = ProcessShared::SharedArray.new(:int64, @routes.size)
    @peak = ProcessShared::SharedArray.new(:int64, @routes.size)
    @in_flight_by_worker = ProcessShared::SharedArray.new(:int64, @routes.size * workers)
    @boots = ProcessShared::SharedArray.new(:uint64, workers)
  end

  # Called in each worker as it boots (Puma's `on_worker_boot`), with its
  # slot index: takes the requests its dead predecessor left in flight off
  # the gauges.
  def worker_booted(index)
    @worker = index
    @boots.increment(index)
    @routes.each_index do |route|
      left = @in_flight_by_worker.swap(worker_slot(route), 0)
      @in_flight.decrement(route, left) unless left.zero?
    end
  end

  # Counts a request to `path` while the block serves it.
  def track(path)
    route = @route_index.fetch(path, @route_index.fetch(OTHER))
    @requests.increment(route)
    @in_flight_by_worker.increment(worker_slot(route))
    @peak.max!(route, @in_flight.increment(route))
    begin
      yield
    ensure
      @in_flight.decrement(route)
      @in_flight_by_worker.decrement(worker_slot(route))
    end
  end

  # The metrics in the Prometheus text exposition format (version 0.0.4).
  def to_prometheus
    [
      family("http_requests_total", "counter", "Requests received, by route, over all workers.", @requests),
      family("http_requests_in_flight", "gauge", "Requests being served now, by route.", @in_flight),
      family("http_requests_in_flight_peak", "gauge", "Most requests served at once, by route.", @peak),
      "# HELP puma_worker_boots_total Times Puma has started a worker in each slot.\n" \
      "# TYPE puma_worker_boots_total counter\n" +
        @boots.each_with_index.map { |boots, index| "puma_worker_boots_total{worker=\"#{index}\"} #{boots}\n" }.join
    ].join
  end

  private

  def worker_slot(route)
    (@worker * @routes.size) + route
  end

  def family(name, type, help, values)
    "# HELP #{name} #{help}\n# TYPE #{name} #{type}\n" +
      @routes.each_with_index.map { |route, index| "#{name}{route=\"#{route}\"} #{values[index]}\n" }.join
  end
end
