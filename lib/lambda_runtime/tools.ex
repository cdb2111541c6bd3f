defmodule LambdaRuntime.Tools do
  @moduledoc """
  What builds, packages, deploys, emulates and scaffolds a function: the
  code behind the `lambda.*` Mix tasks. It runs on a developer's machine
  or in CI, never inside Lambda, so the layer leaves this namespace out
  (`LambdaRuntime.Tools.Layer.Builder.tooling?/1`); everything else of
  `lambda_runtime` is the runtime and ships. The test API users call from
  their ExUnit tests keeps its public names (`LambdaRuntime.Test`,
  `LambdaRuntime.Durable.Test`, `LambdaRuntime.Samples`) and is left out
  of the layer as well.
  """

  @source_root Path.expand("../..", __DIR__)

  @doc """
  The lambda_runtime sources these tools were compiled from (the checkout,
  or `deps/lambda_runtime` in a project that depends on it): where
  `bootstrap.sh`, `native/` and `scripts/` are.
  """
  @spec source_root() :: Path.t()
  def source_root, do: @source_root
end
