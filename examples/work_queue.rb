# frozen_string_literal: true

# A parent feeds 4 forked workers through a SizedQueue and collects their
# results through a Queue. Closing the job queue ends the workers: once it
# is closed and drained, their `pop` returns nil.
#
#   ruby -Ilib examples/work_queue.rb

require "process_shared"

jobs = ProcessShared::SizedQueue.new(8) # the parent waits when 8 are pending
results = ProcessShared::Queue.new

workers = Array.new(4) do
  fork do
    while (job = jobs.pop)
      results << { id: job[:id], square: job[:n] * job[:n], worker: Process.pid }
    end
    exit!(0)
  end
end

(1..100).each { |n| jobs << { id: n, n: } }
jobs.close

collected = Array.new(100) { results.pop }
workers.each { |pid| Process.wait(pid) }

puts "jobs done: #{collected.size}"
puts "sum of squares: #{collected.sum { |result| result[:square] }}"
puts "every job once: #{collected.map { |result| result[:id] }.sort == (1..100).to_a}"
puts "workers that helped: #{collected.map { |result| result[:worker] }.uniq.size}"
