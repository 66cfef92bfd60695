# frozen_string_literal: true

require_relative "support/public_api"
require_relative "support/signatures"
require_relative "../rakelib/typed_accessors"

# sig/process_shared.rbs must describe the API the extension and the shims
# really define: every class, module, constant and public method, with the
# number of arguments Ruby accepts. (`rake rbs` checks that the signatures
# are well-formed; spec/signature_types_spec.rb checks real calls against
# the declared types.)
RSpec.describe "sig/process_shared.rbs" do
  def env
    Signatures.env
  end

  def builder
    Signatures.builder
  end

  def type_name(namespace)
    Signatures.type_name(namespace)
  end

  # The RBS definition of `namespace`'s instances or of `namespace` itself.
  def definition(namespace, singleton:)
    name = type_name(namespace)
    singleton ? builder.build_singleton(name) : builder.build_instance(name)
  end

  # Fewest and most positional arguments of one RBS overload (most: nil when
  # unbounded).
  def rbs_arity(method_type)
    function = method_type.type
    fewest = function.required_positionals.size + function.trailing_positionals.size
    most = function.rest_positionals ? nil : fewest + function.optional_positionals.size
    [fewest, most]
  end

  def arity_problems(rbs_method, method)
    PublicAPI.arity_problems(rbs_method.method_types.map { |method_type| rbs_arity(method_type) }, method)
  end

  PublicAPI.namespaces.each do |namespace|
    describe namespace.name do
      it "is declared, as a #{namespace.is_a?(Class) ? 'class' : 'module'} with the same superclass" do
        entry = env.class_decls[type_name(namespace)]
        expect(entry).not_to be_nil, "#{namespace} is not declared in sig/"
        expect(entry).to be_a(namespace.is_a?(Class) ? RBS::Environment::ClassEntry : RBS::Environment::ModuleEntry)
        next unless namespace.is_a?(Class)

        superclass = entry.primary.decl.super_class&.name || RBS::BuiltinNames::Object.name
        expect(superclass).to eq(type_name(namespace.superclass))
      end

      [[false, "instance"], [true, "singleton"]].each do |singleton, kind|
        ruby_methods = singleton ? PublicAPI.singleton_methods(namespace) : PublicAPI.instance_methods(namespace)
        owner = singleton ? namespace.singleton_class : namespace

        it "declares every public #{kind} method Ruby defines, as public, with arities Ruby accepts" do
          rbs = definition(namespace, singleton:).methods
          problems = ruby_methods.filter_map do |name|
            declared = rbs[name]
            next "#{name}: not declared" unless declared
            next "#{name}: declared private" unless Signatures.public?(declared, singleton:)

            found = arity_problems(declared, owner.instance_method(name))
            "#{name}: #{found.join(', ')}" unless found.empty?
          end
          expect(problems).to be_empty, "#{namespace} (#{kind}):\n  #{problems.join("\n  ")}"
        end

        it "declares only public #{kind} methods that Ruby defines" do
          here = type_name(namespace)
          declared = definition(namespace, singleton:).methods.select do |_name, method|
            Signatures.public?(method, singleton:) && method.defs.any? { |type_def| type_def.implemented_in == here }
          end
          missing = declared.keys.reject do |name|
            name == :new ? singleton && namespace.respond_to?(:new) : owner.public_method_defined?(name)
          end
          expect(missing).to be_empty, "#{namespace} (#{kind}) has no public #{missing.join(', ')}"
        end
      end

      next unless namespace.is_a?(Class) && namespace.private_method_defined?(:initialize, false)

      it "declares initialize with the arities Ruby accepts" do
        declared = definition(namespace, singleton: false).methods[:initialize]
        expect(declared&.defs&.map(&:implemented_in)).to include(type_name(namespace))
        problems = arity_problems(declared, namespace.instance_method(:initialize))
        expect(problems).to be_empty, "#{namespace}#initialize: #{problems.join(', ')}"
      end
    end
  end

  it "declares every constant that is not a class or module" do
    missing = PublicAPI.constants.reject do |namespace, name|
      env.constant_decls.key?(RBS::TypeName.new(name:, namespace: type_name(namespace).to_namespace))
    end
    expect(missing.map { |namespace, name| "#{namespace}::#{name}" }).to be_empty
  end

  describe "the typed accessors of SharedMemory" do
    it "are generated for every type name the extension knows, and no other" do
      accessors = ProcessShared::SharedMemory.public_instance_methods(false).grep(/\A(get|put|read|write)_/)
      native = accessors.map { |name| name.to_s.sub(/\A(get|put|read|write)_(array_of_)?/, "") }.uniq
      expect(native - %w[bytes object string]).to match_array(TypedAccessors.names)
      expect(accessors).to include(*TypedAccessors.method_names.map(&:to_sym))
    end

    it "come from a type table whose sizes and ranges are the accessors' own" do
      TypedAccessors.types.each do |type|
        memory = ProcessShared::SharedMemory.new(type.name.to_sym, 2)
        expect([memory.type, memory.type_size]).to eq([type.name.to_sym, type.bytes])
        next if type.float?

        memory.public_send(:"put_array_of_#{type.name}", 0, [type.minimum, type.maximum])
        expect(memory.public_send(:"read_array_of_#{type.name}", 2)).to eq([type.minimum, type.maximum])
        expect { memory.public_send(:"put_#{type.name}", 0, type.maximum + 1) }.to raise_error(RangeError)
        expect { memory.public_send(:"put_#{type.name}", 0, type.minimum - 1) }.to raise_error(RangeError)
      end
    end

    it "are declared as rake generate:typed_accessors writes them from the extension's type table" do
      rbs = File.read(TypedAccessors::RBS_PATH)
      expect(rbs).to eq(TypedAccessors::Signatures.file(rbs)), "run rake generate:typed_accessors"
    end
  end
end
