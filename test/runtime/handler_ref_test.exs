defmodule LambdaRuntime.HandlerRefTest do
  use ExUnit.Case, async: true

  alias LambdaRuntime.{Context, ErrorReport, HandlerRef}
  alias LambdaRuntime.TestHandlers.{InitBadReturn, InitError, InitRaises, NoInit, Plain, Stateful}

  @plain "LambdaRuntime.TestHandlers.Plain"

  describe "parse/1" do
    test "Module.function splits at the last segment" do
      assert HandlerRef.parse("Hello.handle") == {:ok, "Hello", "handle"}
      assert HandlerRef.parse("My.App.Handler.run") == {:ok, "My.App.Handler", "run"}
      assert HandlerRef.parse("Mod.valid?") == {:ok, "Mod", "valid?"}
      assert HandlerRef.parse("Mod.go!") == {:ok, "Mod", "go!"}
      assert HandlerRef.parse("Mod._private_ish") == {:ok, "Mod", "_private_ish"}
    end

    test "a bare module has no function" do
      assert HandlerRef.parse("MyApp.Handler") == {:ok, "MyApp.Handler", nil}
      assert HandlerRef.parse("Handler") == {:ok, "Handler", nil}
    end

    test "the Elixir. prefix and surrounding whitespace are ignored" do
      assert HandlerRef.parse("Elixir.Hello.handle") == {:ok, "Hello", "handle"}
      assert HandlerRef.parse("  Hello.handle\n") == {:ok, "Hello", "handle"}
      assert HandlerRef.parse(" Elixir.MyApp.Handler ") == {:ok, "MyApp.Handler", nil}
      # Unicode whitespace too (a value pasted from a web page).
      assert HandlerRef.parse("\u00A0Hello.handle\u3000") == {:ok, "Hello", "handle"}
    end

    test "nil, empty and blank values are Runtime.InvalidHandler errors" do
      assert {:error, %ErrorReport{type: "Runtime.InvalidHandler", message: m1}} =
               HandlerRef.parse(nil)

      assert m1 =~ "not set"

      for blank <- ["", "   ", "Elixir."] do
        assert {:error, %ErrorReport{type: "Runtime.InvalidHandler", message: m}} =
                 HandlerRef.parse(blank)

        assert m =~ "empty", "for #{inspect(blank)}: #{m}"
      end
    end

    test "malformed strings are Runtime.InvalidHandler errors that quote the value" do
      for bad <- [
            "Hello..handle",
            "Hello.",
            ".handle",
            "Hello/handle",
            "Hello:handle",
            "Hello.handle(1)",
            "Hel lo.handle",
            "1Hello.handle",
            "hello.handle",
            "Hello.inner.handle",
            "handle",
            "Hello.hand?le"
          ] do
        assert {:error, %ErrorReport{type: "Runtime.InvalidHandler", message: message}} =
                 HandlerRef.parse(bad),
               "expected #{inspect(bad)} to be rejected"

        assert message =~ inspect(bad)
      end
    end
  end

  describe "resolve/1" do
    test "a function of arity 2 is called with the event and the context" do
      assert {:ok, %HandlerRef{module: Plain, function: :two, arity: 2, kind: :function} = ref} =
               HandlerRef.resolve(@plain <> ".two")

      context = %Context{request_id: "r-1"}

      assert HandlerRef.call(ref, %{"x" => 1}, context, nil) ==
               {:ok, %{"event" => %{"x" => 1}, "request_id" => "r-1"}}
    end

    test "a function of arity 1 is called with the event only" do
      assert {:ok, %HandlerRef{function: :one, arity: 1} = ref} =
               HandlerRef.resolve(@plain <> ".one")

      assert HandlerRef.call(ref, 5, %Context{}, nil) == {:ok, %{"only_event" => 5}}
    end

    test "arity 2 is preferred when both exist" do
      assert {:ok, %HandlerRef{arity: 2}} = HandlerRef.resolve(@plain <> ".both")
    end

    test "names ending in ? or ! resolve" do
      assert {:ok, %HandlerRef{function: :valid?, arity: 1}} =
               HandlerRef.resolve(@plain <> ".valid?")

      assert {:ok, %HandlerRef{function: :bang!, arity: 2}} =
               HandlerRef.resolve(@plain <> ".bang!")
    end

    test "the Elixir. prefix resolves the same module" do
      assert HandlerRef.resolve("Elixir." <> @plain <> ".two") ==
               HandlerRef.resolve(@plain <> ".two")
    end

    test "a bare module using the behaviour resolves to handle_event/3" do
      assert {:ok,
              %HandlerRef{module: Stateful, function: :handle_event, arity: 3, kind: :behaviour} =
                ref} = HandlerRef.resolve("LambdaRuntime.TestHandlers.Stateful")

      assert HandlerRef.call(ref, "e", %Context{}, :st) ==
               {:ok, %{"state" => :st, "event" => "e"}}

      assert HandlerRef.describe(ref) =~ "Stateful (LambdaRuntime.Handler)"
    end

    test "a bare module without handle_event/3 is Runtime.HandlerNotFound" do
      assert {:error, %ErrorReport{type: "Runtime.HandlerNotFound", message: message}} =
               HandlerRef.resolve("LambdaRuntime.TestHandlers.NotAHandler")

      assert message =~ "does not implement LambdaRuntime.Handler"
    end

    test "a missing module is Runtime.HandlerNotFound naming the module" do
      assert {:error, %ErrorReport{type: "Runtime.HandlerNotFound", message: message}} =
               HandlerRef.resolve("No.Such.ModuleHere.handle")

      assert message =~ "No.Such.ModuleHere is not available"
    end

    test "a missing, private or wrong-arity function is Runtime.HandlerNotFound listing exports" do
      for name <- ["nope", "hidden", "zero", "three"] do
        assert {:error, %ErrorReport{type: "Runtime.HandlerNotFound", message: message}} =
                 HandlerRef.resolve("#{@plain}.#{name}")

        assert message =~ "#{name}/2 (or /1) is not exported"
        assert message =~ "two/2"
        refute message =~ "hidden/1"
      end
    end

    test "invalid strings fail before any lookup" do
      assert {:error, %ErrorReport{type: "Runtime.InvalidHandler"}} = HandlerRef.resolve("a.b.c")
      assert {:error, %ErrorReport{type: "Runtime.InvalidHandler"}} = HandlerRef.resolve(nil)
    end
  end

  describe "init/2" do
    setup do
      %{context: %Context{function_name: "fn-under-test"}}
    end

    test "a behaviour's init/1 state is returned", %{context: context} do
      {:ok, ref} = HandlerRef.resolve("LambdaRuntime.TestHandlers.Stateful")
      assert HandlerRef.init(ref, context) == {:ok, %{"function" => "fn-under-test", "n" => 7}}
    end

    test "without init/1, and for plain functions, the state is nil", %{context: context} do
      {:ok, ref} = HandlerRef.resolve(inspect(NoInit))
      assert HandlerRef.init(ref, context) == {:ok, nil}
      {:ok, ref} = HandlerRef.resolve(@plain <> ".two")
      assert HandlerRef.init(ref, context) == {:ok, nil}
    end

    test "init/1 raising is Runtime.InitError with the exception and stack", %{context: context} do
      {:ok, ref} = HandlerRef.resolve(inspect(InitRaises))

      assert {:error, %ErrorReport{type: "Runtime.InitError", message: message, stack_trace: st}} =
               HandlerRef.init(ref, context)

      assert message =~ "InitRaises.init/1 failed: RuntimeError: init blew up"
      assert Enum.any?(st, &(&1 =~ "InitRaises.init/1"))
    end

    test "init/1 returning an error or a bad value is Runtime.InitError", %{context: context} do
      {:ok, ref} = HandlerRef.resolve(inspect(InitError))

      assert {:error, %ErrorReport{type: "Runtime.InitError", message: m1}} =
               HandlerRef.init(ref, context)

      assert m1 =~ "returned an error: :no_database"

      {:ok, ref} = HandlerRef.resolve(inspect(InitBadReturn))

      assert {:error, %ErrorReport{type: "Runtime.InitError", message: m2}} =
               HandlerRef.init(ref, context)

      assert m2 =~ "must return {:ok, state}, got: :ready"
    end
  end
end
