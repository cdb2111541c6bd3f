defmodule LambdaRuntime.TestSupport.FaultCase do
  @moduledoc """
  The set-up every fault test repeats: the real `bootstrap.sh` with the
  fixture project (`test/fixtures/handlers`) against the scripted
  `LambdaRuntime.TestSupport.FaultApi`.

      use LambdaRuntime.TestSupport.FaultCase
      # a FaultApi per test, in the context as :api; runtimes started with
      # start_runtime/2,3

      use LambdaRuntime.TestSupport.FaultCase, shared: "Fixture.Matrix.handle"
      # one runtime with that handler for the whole module
      # (LambdaRuntime.TestSupport.Fault.SharedRuntime): :api and :shared

  Either way the module is synchronous (the runtimes are OS processes that
  compete for the machine), tagged `:fault`, with a 60 s timeout per test;
  it imports `LambdaRuntime.TestSupport.Fault.Assert` (what the tests
  check) and `start_api/0` and `start_runtime/3`, and aliases `JSON`,
  `FaultApi`, `Fixture` and `RuntimeProcess`.
  """

  use ExUnit.CaseTemplate

  alias LambdaRuntime.TestSupport.{FaultApi, Fixture}

  using opts do
    setup =
      case Keyword.fetch(opts, :shared) do
        {:ok, handler} ->
          quote do
            setup_all do
              shared = LambdaRuntime.TestSupport.Fault.SharedRuntime.start!(unquote(handler))
              on_exit(fn -> LambdaRuntime.TestSupport.Fault.SharedRuntime.stop(shared) end)
              %{api: shared.api, shared: shared}
            end
          end

        :error ->
          quote do
            setup_all do
              LambdaRuntime.TestSupport.Fixture.task_root!()
              :ok
            end

            setup do
              %{api: start_api()}
            end
          end
      end

    quote do
      import LambdaRuntime.TestSupport.Fault.Assert

      import LambdaRuntime.TestSupport.FaultCase,
        only: [start_api: 0, start_runtime: 2, start_runtime: 3]

      alias LambdaRuntime.JSON
      alias LambdaRuntime.TestSupport.{FaultApi, Fixture, RuntimeProcess}

      @moduletag :fault
      @moduletag timeout: 60_000

      unquote(setup)
    end
  end

  @doc "Starts one more FaultApi, stopped when the test ends."
  def start_api do
    api = FaultApi.start!()
    ExUnit.Callbacks.on_exit(fn -> FaultApi.stop(api) end)
    api
  end

  @doc """
  Starts `bootstrap.sh` with `handler` against `api` (a FaultApi, or an
  `AWS_LAMBDA_RUNTIME_API` value), killed when the test ends. `opts` go to
  `LambdaRuntime.TestSupport.Fixture.start_runtime!/3` (`:env`).
  """
  def start_runtime(api, handler, opts \\ []) do
    runtime_api = if is_binary(api), do: api, else: FaultApi.runtime_api(api)
    runtime = Fixture.start_runtime!(runtime_api, handler, opts)
    ExUnit.Callbacks.on_exit(fn -> Fixture.kill_runtime(runtime) end)
    runtime
  end
end
