# frozen_string_literal: true

require "fileutils"
require "rubygems/package"
require "tmpdir"

# The precompiled gem: `rake native gem` packs the extension compiled for
# this Ruby into pkg/process_shared-VERSION-<platform>.gem, which installs
# and runs where there is no Rust at all. Built once for the whole file.
RSpec.describe "the precompiled platform gem", :slow do
  root = File.expand_path("..", __dir__)
  ruby_minor = RUBY_VERSION[/\A\d+\.\d+/]

  # The environment of a user who has only the installed gem, and no cargo
  # or rustc on PATH.
  def user_environment(gem_home)
    inherited = ENV.keys.grep(/\A(RUBYLIB|RUBYOPT|BUNDLE_|BUNDLER_|CARGO|RUSTUP)/).to_h { |name| [name, nil] }
    path = ENV.fetch("PATH").split(File::PATH_SEPARATOR).reject do |dir|
      %w[cargo rustc].any? { |tool| File.executable?(File.join(dir, tool)) }
    end
    inherited.merge("GEM_HOME" => gem_home, "GEM_PATH" => gem_home, "PATH" => path.join(File::PATH_SEPARATOR))
  end

  # `gem` itself, without looking it up on PATH.
  def gem_command(*args)
    [RbConfig.ruby, "-rrubygems/gem_runner", "-e", "Gem::GemRunner.new.run(ARGV)", "--", *args]
  end

  before(:context) do
    # From the checkout, as a release would be built: `rake compile` has
    # usually built the extension already, so this only packs it.
    # rake's package tasks never refresh a staging directory left by an
    # earlier build, which then lacks the files added since: start clean.
    staging = File.join(root, "pkg", "process_shared-#{ProcessShared::VERSION}-#{Gem::Platform.local}")
    FileUtils.rm_rf([staging, "#{staging}.gem"])
    env = { "CARGO_TARGET_DIR" => File.join(root, "target") }
    run_command(env, RbConfig.ruby, "-S", "rake", "native", "gem", chdir: root, timeout: 300)
    @gem_file = "#{staging}.gem"
    @dir = Dir.mktmpdir("process_shared-native-gem-")
    @gem_home = File.join(@dir, "gems")
    FileUtils.mkdir_p(@gem_home)
  end

  after(:context) { FileUtils.remove_entry(@dir) if @dir }

  it "holds the extension for this Ruby at lib/process_shared/<major.minor>/, and nothing to compile" do
    expect(File).to exist(@gem_file)
    package = Gem::Package.new(@gem_file)
    expect(package.contents).to include("lib/process_shared/#{ruby_minor}/process_shared.so")
    expect(package.contents.grep(/\.so\z/)).to eq(["lib/process_shared/#{ruby_minor}/process_shared.so"])
    expect(package.spec.extensions).to be_empty
    expect(package.spec.platform.to_s).to eq(Gem::Platform.local.to_s)
    expect(package.spec.required_ruby_version).to be_satisfied_by(Gem::Version.new(RUBY_VERSION))
  end

  it "installs into an empty GEM_HOME without cargo or rustc, and runs the demo" do
    environment = user_environment(@gem_home)
    expect(environment["PATH"].split(File::PATH_SEPARATOR)).not_to be_empty
    run_command(environment, *gem_command("install", "--local", @gem_file, "--install-dir", @gem_home,
                                          "--no-document"), chdir: @dir, timeout: 60)

    demo = File.read(File.join(root, "examples", "demo.rb"))
    script = "#{demo}\nputs \"loaded \#{$LOADED_FEATURES.grep(%r{/process_shared[.]so\\z}).join(',')}\"\n"
    output = run_command(environment, RbConfig.ruby, "-e", script, chdir: @dir)
    expect(output).to include("value should be zero: 0")
    expect(output.lines.count { |line| line.include?("incrementing") }).to eq(10)
    installed = File.join(@gem_home, "gems", "process_shared-#{ProcessShared::VERSION}-#{Gem::Platform.local}")
    library = File.join(installed, "lib", "process_shared", ruby_minor, "process_shared.so")
    expect(output).to include("loaded #{library}")
  end

  it "says which Ruby versions it has when none fits this Ruby" do
    environment = user_environment(@gem_home)
    run_command(environment, *gem_command("install", "--local", @gem_file, "--install-dir", @gem_home,
                                          "--no-document"), chdir: @dir, timeout: 60)
    # What a gem built for other Rubies looks like from this one.
    lib = File.join(@gem_home, "gems", "process_shared-#{ProcessShared::VERSION}-#{Gem::Platform.local}",
                    "lib", "process_shared")
    FileUtils.mv(File.join(lib, ruby_minor), File.join(lib, "9.8"))
    script = 'begin; require "process_shared"; rescue LoadError => e; print e.message; end'
    output = run_command(environment, RbConfig.ruby, "-e", script, chdir: @dir)
    expect(output).to include("no native extension for Ruby #{ruby_minor}", "it has one for: 9.8",
                              "gem install process_shared --platform ruby")
  ensure
    FileUtils.mv(File.join(lib, "9.8"), File.join(lib, ruby_minor)) if lib && File.exist?(File.join(lib, "9.8"))
  end
end
