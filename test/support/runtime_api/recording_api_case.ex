defmodule LambdaRuntime.TestSupport.RecordingApiCase do
  @moduledoc """
  The set-up of the tests that run the real `bootstrap.sh` with the
  features fixture (`test/fixtures/features`) against the
  `LambdaRuntime.TestSupport.RecordingApi`: streaming, logging, lifecycle,
  Managed Instances, metrics.

      use LambdaRuntime.TestSupport.RecordingApiCase, async: true

      {api, runtime} = start_runtime("Features.Lifecycle", env: [{"K", "v"}])

  The module is tagged `:recording_api`, builds the fixture once in
  `setup_all`, imports `start_runtime/2` and aliases `JSON`,
  `RecordingApi`, `FeaturesFixture` and `RuntimeProcess`.
  """

  use ExUnit.CaseTemplate

  alias LambdaRuntime.TestSupport.{FeaturesFixture, RecordingApi}

  using do
    quote do
      import LambdaRuntime.TestSupport.RecordingApiCase,
        only: [start_runtime: 1, start_runtime: 2]

      alias LambdaRuntime.JSON
      alias LambdaRuntime.TestSupport.{FeaturesFixture, RecordingApi, RuntimeProcess}

      @moduletag :recording_api

      setup_all do
        LambdaRuntime.TestSupport.FeaturesFixture.task_root!()
        :ok
      end
    end
  end

  @doc """
  Starts a RecordingApi and `bootstrap.sh` with `handler` against it, both
  stopped when the test ends; returns `{api, runtime}`. Options: `:env`
  (the runtime's extra variables), `:api` (`RecordingApi.start!/1`'s).
  """
  def start_runtime(handler, opts \\ []) do
    api = RecordingApi.start!(Keyword.get(opts, :api, []))

    runtime =
      FeaturesFixture.start_runtime!(RecordingApi.runtime_api(api), handler,
        env: Keyword.get(opts, :env, [])
      )

    {api, runtime}
  end
end
