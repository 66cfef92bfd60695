# frozen_string_literal: true

require "rbconfig"

# A Rust panic never crosses into Ruby: it becomes a Ruby exception. magnus
# alone would raise it as `fatal`, which no rescue catches and which ends the
# interpreter. ext/process_shared/src/ruby_api/guard.rs does this on magnus
# internals: this spec is what fails when a magnus upgrade breaks it.
RSpec.describe "a Rust panic" do
  lib = File.expand_path("../lib", __dir__)

  it "reaches Ruby as a RuntimeError that can be rescued, and the gem keeps working" do
    script = <<~'RUBY'
      require "process_shared"
      begin
        ProcessShared.__panic_for_tests("on purpose")
      rescue StandardError => e
        puts "#{e.class}: #{e.message}"
      end
      puts ProcessShared::Mutex.new.synchronize { :still_working }
    RUBY
    output = run_command({ "PROCESS_SHARED_PANIC_TESTS" => "1", "RUST_BACKTRACE" => "0" },
                         RbConfig.ruby, "-I", lib, "-e", script, chdir: __dir__, timeout: 60)
    expect(output).to include("RuntimeError: process_shared: internal error (a bug, please report it): on purpose\n")
    expect(output).to end_with("still_working\n")
  end

  it "is caught in every method shape the binding defines" do
    script = <<~'RUBY'
      require "process_shared"
      [[:__panic_for_tests, "one"], [:__panic_for_tests_any, 1, 2, 3], [:__panic_for_tests_0],
       [:__panic_for_tests_2, "two", "args"]].each do |name, *args|
        ProcessShared.public_send(name, *args)
        puts "#{name}: no panic"
      rescue StandardError => e
        puts "#{name}: #{e.class}: #{e.message}"
      end
    RUBY
    output = run_command({ "PROCESS_SHARED_PANIC_TESTS" => "1", "RUST_BACKTRACE" => "0" },
                         RbConfig.ruby, "-I", lib, "-e", script, chdir: __dir__, timeout: 60)
    prefix = "RuntimeError: process_shared: internal error (a bug, please report it):"
    expect(output.lines.grep(/^__panic/)).to eq(
      ["__panic_for_tests: #{prefix} one\n",
       "__panic_for_tests_any: #{prefix} any arity (3 arguments)\n",
       "__panic_for_tests_0: #{prefix} no arguments\n",
       "__panic_for_tests_2: #{prefix} two args\n"]
    )
  end

  it "has no test method to trigger it unless the environment asks for one" do
    script = 'require "process_shared"; p ProcessShared.respond_to?(:__panic_for_tests)'
    output = run_command({ "PROCESS_SHARED_PANIC_TESTS" => nil }, RbConfig.ruby, "-I", lib, "-e", script,
                         chdir: __dir__, timeout: 60)
    expect(output).to eq("false\n")
  end
end
