defmodule LambdaRuntime.TestSupport.Paths do
  @moduledoc """
  Where things are in this checkout, for tests and support code wherever
  they sit under `test/`: the checkout's root, a path under it, a fixture.

      Paths.root()                      # the checkout
      Paths.root(".venv/bin/python")    # a path under it
      Paths.fixture("handlers")         # test/fixtures/handlers
  """

  @root Path.expand("../..", __DIR__)

  @doc "The checkout's root directory."
  @spec root() :: Path.t()
  def root, do: @root

  @doc "`relative` under the checkout's root."
  @spec root(Path.t()) :: Path.t()
  def root(relative), do: Path.join(@root, relative)

  @doc "The fixture `name` (a directory or file under `test/fixtures`)."
  @spec fixture(Path.t()) :: Path.t()
  def fixture(name), do: Path.join([@root, "test/fixtures", name])
end
