# frozen_string_literal: true

RSpec.describe ProcessShared do
  it "shares a semaphore and memory with a forked child" do
    semaphore = ProcessShared::Semaphore.new(0)
    memory = ProcessShared::SharedMemory.new(:int)
    pid = fork_child do
      memory.put_int(0, 42)
      semaphore.post
    end
    semaphore.wait
    expect(memory.get_int(0)).to eq(42)
    expect_children_to_succeed([pid])
  end
end
