# frozen_string_literal: true

# The demo and every Ruby example of the README run as their own programs,
# and print what the README says they print.
RSpec.describe "the examples" do
  root = File.expand_path("..", __dir__)
  lib = File.join(root, "lib")
  # Fenced ruby blocks, also indented ones (inside list items), dedented.
  readme_blocks = File.read(File.join(root, "README.md"))
                      .scan(/^( *)```ruby\n(.*?)^\1```$/m)
                      .map { |indent, code| code.gsub(/^#{indent}/, "") }
  demo = File.read(File.join(root, "examples/demo.rb"))

  # The lines a block promises to print: `p x # => shown` or `puts x # => shown`.
  def promised_output(code)
    code.scan(/^\s*(?:p|puts) .*# => (.*)$/).flatten
  end

  def code_lines(code)
    code.lines.map(&:strip).reject { |line| line.empty? || line.start_with?("#") }
  end

  it "include several README blocks that promise output (a check of this spec itself)" do
    expect(readme_blocks.size).to be >= 3
    expect(readme_blocks.sum { |code| promised_output(code).size }).to be >= 5
  end

  readme_blocks.each_with_index do |code, index|
    it "runs README example #{index + 1} and prints what it promises" do
      output = run_command({}, RbConfig.ruby, "-I", lib, "-e", code, chdir: Dir.tmpdir, timeout: 60)
      printed = output.lines.map(&:chomp)
      promised_output(code).reduce(0) do |from, line|
        found = printed.index.with_index { |printed_line, at| at >= from && printed_line == line }
        expect(found).not_to be_nil, "#{line.inspect} not printed (in order) in:\n#{output}"
        found + 1
      end
    end
  end

  it "shows in the README the code that examples/demo.rb runs" do
    expect(code_lines(readme_blocks.first)).to eq(code_lines(demo))
  end

  it "runs the demo: two processes take turns on the counter, which ends at zero" do
    output = run_command({}, RbConfig.ruby, "-I", lib, "examples/demo.rb", chdir: root, timeout: 60)
    incrementers = output.scan(/^process 1 \((\d+)\) incrementing$/).flatten
    decrementers = output.scan(/^process 2 \((\d+)\) decrementing$/).flatten
    expect([incrementers.size, decrementers.size]).to eq([10, 10])
    expect((incrementers + decrementers).uniq.size).to eq(2)
    expect(output.lines.last).to eq("value should be zero: 0\n")
  end

  it "runs examples/async: two forked workers' Async task trees share a rate limit and a counter" do
    begin
      require "async"
    rescue LoadError
      skip "the async gem is not installed (bin/setup installs ruby-async)"
    end
    output = run_command({}, RbConfig.ruby, "-I", lib, "examples/async/task_tree.rb", chdir: root, timeout: 60)
    expect(output.lines).to eq(["workers succeeded: true\n", "requests done: 48 (expected 48)\n",
                                "peak calls in flight: 3 (limit 3)\n"])
  end
end
