# frozen_string_literal: true

# The public API as the loaded gem defines it, for the specs that check that
# the signatures (sig/) and the YARD docs (lib/) cover all of it.
module PublicAPI
  module_function

  # ProcessShared and every class and module named under it, outermost first.
  def namespaces(root = ProcessShared, found = [])
    found << root
    root.constants(false).sort.each do |name|
      value = root.const_get(name, false)
      next unless value.is_a?(Module) && value.name == "#{root.name}::#{name}"

      namespaces(value, found) unless found.include?(value)
    end
    found
  end

  # [namespace, constant name] of every constant that is not a module.
  def constants
    namespaces.flat_map do |namespace|
      namespace.constants(false).sort.reject { |name| namespace.const_get(name, false).is_a?(Module) }
               .map { |name| [namespace, name] }
    end
  end

  # Public instance methods that `namespace` itself defines (aliases too).
  def instance_methods(namespace)
    namespace.public_instance_methods(false).sort
  end

  # Public methods of `namespace` itself (`def self.x`, module functions).
  def singleton_methods(namespace)
    namespace.singleton_class.public_instance_methods(false).sort
  end

  # The fewest and the most positional arguments `method` accepts (the most
  # is nil when unbounded), and whether they are exact: a native method
  # that takes a variable number of arguments tells Ruby only "any".
  def arity_range(method)
    kinds = method.parameters.map(&:first)
    fewest = kinds.count(:req)
    most = kinds.include?(:rest) ? nil : fewest + kinds.count(:opt)
    exact = !(method.source_location.nil? && method.arity.negative?)
    [fewest, most, exact]
  end

  # What is wrong with `ranges` (the fewest and most positional arguments,
  # most nil when unbounded, of each declared signature: RBS overloads, YARD
  # signatures) as a description of `method`, if anything: a signature that
  # Ruby would refuse, or (where Ruby's arity is exact) arities that Ruby
  # accepts and no signature allows.
  def arity_problems(ranges, method)
    fewest, most, exact = arity_range(method)
    problems = ranges.reject { |low, high| low >= fewest && within?(high, most) }
                     .map { |low, high| "a signature taking #{low}..#{high || 'any'} arguments" }
    exact ? problems + uncovered(ranges, fewest, most) : problems
  end

  # Whether a most of `high` arguments (nil: any) is within Ruby's `most`.
  def within?(high, most)
    most.nil? || (!high.nil? && high <= most)
  end

  # Ruby's fewest, and its most if bounded (a Ruby method taking *args may
  # still accept only a few: it forwards them), unless a signature matches.
  def uncovered(ranges, fewest, most)
    lows, highs = ranges.transpose
    widest = highs.include?(nil) ? nil : highs.max
    problems = []
    problems << "no signature requires exactly #{fewest} arguments, as Ruby does" unless lows.include?(fewest)
    problems << "no signature takes up to #{most} arguments, as Ruby does" unless most.nil? || widest == most
    problems
  end
end
