// One include for both Catch2 v2 (Debian 12) and Catch2 v3 (Conan, vcpkg).
#ifndef ROOMCAST_TESTS_CATCH_HPP
#define ROOMCAST_TESTS_CATCH_HPP

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_test_macros.hpp>
#else
#include <catch2/catch.hpp>
#endif

#endif
