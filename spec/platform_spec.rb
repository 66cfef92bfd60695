# frozen_string_literal: true

RSpec.describe "Platform differences" do
  it "reads a semaphore's value on every platform (on macOS from its shadow count)" do
    semaphore = ProcessShared::Semaphore.new(2)
    semaphore.wait
    expect(semaphore.value).to eq(1)
    semaphore.post
    expect(semaphore.value).to eq(2)
  end

  it "lets a child's semaphore operations reach the parent after fork" do
    semaphore = ProcessShared::Semaphore.new(0)
    pid = fork_child { 2.times { semaphore.post } }
    expect_children_to_succeed([pid])
    expect(semaphore.try_wait).to be(semaphore)
    expect(semaphore.try_wait(5)).to be(semaphore)
    expect { semaphore.try_wait }.to raise_error(Errno::EAGAIN)
  end

  it "does not break fork when semaphores were closed before it" do
    closed = ProcessShared::Semaphore.new(1)
    closed.close
    open = ProcessShared::Semaphore.new(0)
    pid = fork_child do
      raise "closed semaphore usable in the child" unless closed.closed?

      open.post
    end
    expect_children_to_succeed([pid])
    expect(open.try_wait(5)).to be(open)
  end
end
