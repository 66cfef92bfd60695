# frozen_string_literal: true

require_relative "support/lock_helpers"

# Interruptions that need another process in the middle of them. Every kind
# of interruption on every blocking call is in interrupt_matrix_spec.rb.
class Interruption < StandardError; end

RSpec.describe "Interrupting a blocked lock or wait" do
  let!(:mutex) { ProcessShared::Mutex.new }
  let!(:cond) { ProcessShared::ConditionVariable.new }
  # What the interrupted wait saw on its way out: 1 = it held the mutex,
  # 2 = it did not.
  let!(:seen) { ProcessShared::SharedMemory.new(:int) }

  # Holds a lock in a child process until the returned lambda is called.
  def hold_in_child(enter, leave)
    held = ProcessShared::Semaphore.new(0)
    release = ProcessShared::Semaphore.new(0)
    pid = fork_child do
      enter.call
      held.post
      release.wait
      leave.call
    end
    held.wait
    lambda do
      release.post
      expect_children_to_succeed([pid])
    end
  end

  def record_ownership(owned)
    seen.put_int(0, owned ? 1 : 2)
  end

  describe "a condition wait interrupted while another process holds the mutex" do
    it "raises only once it holds the mutex again (Thread#raise)" do
      waiter = quiet_thread do
        mutex.synchronize do
          cond.wait(mutex)
        rescue Interruption
          record_ownership(mutex.owned?)
        end
      end
      wait_until_blocked(waiter)
      release = hold_in_child(-> { mutex.lock }, -> { mutex.unlock })
      waiter.raise(Interruption)
      sleep 0.3
      expect(waiter).to be_alive
      release.call
      expect(waiter.join(10)).to eq(waiter)
      expect(seen.get_int(0)).to eq(1)
      expect(mutex).not_to be_locked
    end

    it "ends only once it holds the mutex again (Thread#kill)" do
      waiter = quiet_thread do
        mutex.synchronize do
          cond.wait(mutex)
        ensure
          record_ownership(mutex.owned?)
        end
      end
      wait_until_blocked(waiter)
      release = hold_in_child(-> { mutex.lock }, -> { mutex.unlock })
      waiter.kill
      sleep 0.3
      expect(waiter).to be_alive
      release.call
      expect(waiter.join(10)).to eq(waiter)
      expect(seen.get_int(0)).to eq(1)
      expect(mutex).not_to be_locked
    end
  end
end
