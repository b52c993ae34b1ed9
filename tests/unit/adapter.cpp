// Unit tests for roomcast/adapter/memory.hpp: the room <-> member maps, their invariants, the
// room lifecycle hooks and the broadcast walk (for_each).
#include "catch.hpp"

#include <roomcast/adapter/memory.hpp>

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace adapter = roomcast::adapter;

namespace {

// adapter::member has a protected destructor: only derived classes can be destroyed.
struct test_member : adapter::member {
    using adapter::member::member;
};

std::vector<std::string> rooms_of(adapter::memory const& a, adapter::member const& m) {
    auto const r = a.rooms_of(m);
    return {r.begin(), r.end()};
}

// How often for_each visited each member id.
std::map<std::string, int> visits(adapter::memory const& a, adapter::broadcast_options const& opt) {
    std::map<std::string, int> seen;
    a.for_each(opt, [&](adapter::member& m) { ++seen[m.id()]; });
    return seen;
}

// Each id once: the expected result of visits().
std::map<std::string, int> once(std::set<std::string> const& ids) {
    std::map<std::string, int> out;
    for (auto const& id : ids)
        out[id] = 1;
    return out;
}

adapter::broadcast_options to(std::vector<std::string> rooms,
                              std::vector<std::string> except = {}) {
    adapter::broadcast_options opt;
    opt.rooms = std::move(rooms);
    opt.except = std::move(except);
    return opt;
}

// Records hook calls as "create:r", "join:r:id", "leave:r:id", "delete:r".
struct hook_log {
    std::vector<std::string> events;

    void attach(adapter::memory& a) {
        a.hooks().create_room = [this](std::string const& r) { events.push_back("create:" + r); };
        a.hooks().delete_room = [this](std::string const& r) { events.push_back("delete:" + r); };
        a.hooks().join_room = [this](std::string const& r, adapter::member const& m) {
            events.push_back("join:" + r + ":" + m.id());
        };
        a.hooks().leave_room = [this](std::string const& r, adapter::member const& m) {
            events.push_back("leave:" + r + ":" + m.id());
        };
    }
};

} // namespace

TEST_CASE("adapter: join and leave one room", "[adapter]") {
    adapter::memory a;
    test_member alice("alice");
    CHECK(a.room_count() == 0);
    CHECK(a.member_count() == 0);
    CHECK_FALSE(a.has_room("lobby"));
    CHECK(a.room_size("lobby") == 0);
    CHECK(a.rooms_of(alice).empty());

    a.join(alice, "lobby");
    CHECK(a.has_room("lobby"));
    CHECK(a.room_size("lobby") == 1);
    CHECK(a.room_count() == 1);
    CHECK(a.member_count() == 1);
    CHECK(rooms_of(a, alice) == std::vector<std::string>{"lobby"});

    a.leave(alice, "lobby");
    CHECK_FALSE(a.has_room("lobby"));
    CHECK(a.room_size("lobby") == 0);
    CHECK(a.room_count() == 0);
    CHECK(a.member_count() == 0);
    CHECK(a.rooms_of(alice).empty());
}

TEST_CASE("adapter: several members and rooms", "[adapter]") {
    adapter::memory a;
    test_member alice("alice"), bob("bob");
    a.join(alice, "alice");
    a.join(bob, "bob");
    a.join(alice, "lobby");
    a.join(bob, "lobby");
    a.join(alice, "games");
    CHECK(a.room_count() == 4);
    CHECK(a.member_count() == 2);
    CHECK(a.room_size("lobby") == 2);
    CHECK(a.room_size("games") == 1);
    CHECK(a.room_size("alice") == 1);
    // rooms_of lists rooms in the order they were joined.
    CHECK(rooms_of(a, alice) == std::vector<std::string>{"alice", "lobby", "games"});
    CHECK(rooms_of(a, bob) == std::vector<std::string>{"bob", "lobby"});

    std::map<std::string, std::size_t> sizes;
    a.for_each_room([&](std::string const& name, std::size_t n) { sizes[name] = n; });
    CHECK(sizes ==
          std::map<std::string, std::size_t>{{"alice", 1}, {"bob", 1}, {"lobby", 2}, {"games", 1}});

    a.leave(alice, "lobby");
    CHECK(a.room_size("lobby") == 1);
    CHECK(rooms_of(a, alice) == std::vector<std::string>{"alice", "games"});
    CHECK(rooms_of(a, bob) == std::vector<std::string>{"bob", "lobby"});

    // Joining several rooms at once, some already joined.
    std::vector<std::string> const more = {"games", "chess", "go"};
    a.join(bob, more);
    CHECK(rooms_of(a, bob) == std::vector<std::string>{"bob", "lobby", "games", "chess", "go"});
    CHECK(a.room_size("games") == 2);
    CHECK(a.room_count() == 6);
}

TEST_CASE("adapter: joining twice is a no-op", "[adapter]") {
    adapter::memory a;
    hook_log log;
    log.attach(a);
    test_member alice("alice");
    a.join(alice, "lobby");
    a.join(alice, "lobby");
    CHECK(a.room_size("lobby") == 1);
    CHECK(rooms_of(a, alice) == std::vector<std::string>{"lobby"});
    CHECK(log.events == std::vector<std::string>{"create:lobby", "join:lobby:alice"});

    // One leave is enough to be out.
    a.leave(alice, "lobby");
    CHECK_FALSE(a.has_room("lobby"));
    CHECK(a.member_count() == 0);
}

TEST_CASE("adapter: leaving a room one is not in is a no-op", "[adapter]") {
    adapter::memory a;
    hook_log log;
    log.attach(a);
    test_member alice("alice"), bob("bob"), carol("carol");
    a.join(alice, "lobby");
    a.join(bob, "games");
    log.events.clear();

    a.leave(alice, "games");   // a room that exists, without alice
    a.leave(alice, "nowhere"); // a room that does not exist
    a.leave(carol, "lobby");   // a member in no room at all
    a.leave_all(carol);
    CHECK(log.events.empty());
    CHECK(a.room_size("lobby") == 1);
    CHECK(a.room_size("games") == 1);
    CHECK(a.member_count() == 2);
    CHECK(rooms_of(a, alice) == std::vector<std::string>{"lobby"});
    CHECK(a.rooms_of(carol).empty());
}

TEST_CASE("adapter: empty rooms are deleted", "[adapter]") {
    adapter::memory a;
    test_member m1("m1"), m2("m2"), m3("m3");
    for (auto* m : {&m1, &m2, &m3}) {
        a.join(*m, m->id());
        a.join(*m, "all");
    }
    a.join(m1, "odd");
    a.join(m3, "odd");
    CHECK(a.room_count() == 5);

    a.leave(m1, "odd");
    CHECK(a.has_room("odd"));
    a.leave(m3, "odd");
    CHECK_FALSE(a.has_room("odd"));
    CHECK(a.room_count() == 4);

    a.leave_all(m2);
    CHECK_FALSE(a.has_room("m2"));
    CHECK(a.room_size("all") == 2);
    CHECK(a.member_count() == 2);

    a.leave_all(m1);
    a.leave_all(m3);
    CHECK(a.room_count() == 0);
    CHECK(a.member_count() == 0);
    bool any = false;
    a.for_each_room([&](std::string const&, std::size_t) { any = true; });
    CHECK_FALSE(any);

    // The adapter is usable again afterwards.
    a.join(m2, "all");
    CHECK(a.room_count() == 1);
    CHECK(a.room_size("all") == 1);
}

TEST_CASE("adapter: room hooks come with the right names in the right order", "[adapter][hooks]") {
    adapter::memory a;
    hook_log log;
    log.attach(a);
    test_member alice("alice"), bob("bob");

    a.join(alice, "r");
    a.join(bob, "r");
    a.join(alice, "s");
    a.leave(alice, "r");
    a.leave_all(bob);
    a.leave_all(alice);
    CHECK(log.events == std::vector<std::string>{
                            "create:r",
                            "join:r:alice",
                            "join:r:bob",
                            "create:s",
                            "join:s:alice",
                            "leave:r:alice",
                            "leave:r:bob",
                            "delete:r",
                            "leave:s:alice",
                            "delete:s",
                        });
}

TEST_CASE("adapter: hooks see the maps already updated", "[adapter][hooks]") {
    adapter::memory a;
    test_member alice("alice");
    std::vector<std::string> seen;
    a.hooks().create_room = [&](std::string const& r) {
        seen.push_back("create " + r + " has_room=" + std::to_string(a.has_room(r)));
    };
    a.hooks().join_room = [&](std::string const& r, adapter::member const&) {
        seen.push_back("join " + r + " size=" + std::to_string(a.room_size(r)));
    };
    a.hooks().leave_room = [&](std::string const& r, adapter::member const&) {
        seen.push_back("leave " + r + " size=" + std::to_string(a.room_size(r)));
    };
    a.hooks().delete_room = [&](std::string const& r) {
        seen.push_back("delete " + r + " has_room=" + std::to_string(a.has_room(r)));
    };
    a.join(alice, "r");
    a.leave(alice, "r");
    CHECK(seen == std::vector<std::string>{"create r has_room=1", "join r size=1", "leave r size=0",
                                           "delete r has_room=0"});
}

TEST_CASE("adapter: for_each selects each member once", "[adapter][broadcast]") {
    adapter::memory a;
    // Like Socket.IO, every member is in its own id room.
    test_member alice("alice"), bob("bob"), carol("carol"), dave("dave");
    for (auto* m : {&alice, &bob, &carol, &dave})
        a.join(*m, m->id());
    a.join(alice, "r1");
    a.join(alice, "r2");
    a.join(bob, "r2");
    a.join(carol, "r3");
    a.join(bob, "r3");

    SECTION("everyone") {
        CHECK(visits(a, to({})) == once({"alice", "bob", "carol", "dave"}));
    }
    SECTION("one room") {
        CHECK(visits(a, to({"r1"})) == once({"alice"}));
        CHECK(visits(a, to({"r2"})) == once({"alice", "bob"}));
        CHECK(visits(a, to({"dave"})) == once({"dave"}));
    }
    SECTION("the union of several rooms counts each member once") {
        CHECK(visits(a, to({"r1", "r2"})) == once({"alice", "bob"}));
        CHECK(visits(a, to({"r2", "r3"})) == once({"alice", "bob", "carol"}));
        CHECK(visits(a, to({"r1", "r2", "r3", "alice", "bob"})) == once({"alice", "bob", "carol"}));
        CHECK(visits(a, to({"r2", "r2"})) == once({"alice", "bob"}));
    }
    SECTION("except rooms remove their members") {
        CHECK(visits(a, to({"r2"}, {"r1"})) == once({"bob"}));
        CHECK(visits(a, to({"r2", "r3"}, {"r1"})) == once({"bob", "carol"}));
        CHECK(visits(a, to({"r2", "r3"}, {"r1", "carol"})) == once({"bob"}));
        CHECK(visits(a, to({"r1"}, {"r1"})).empty());
        CHECK(visits(a, to({"r3"}, {"r2"})) == once({"carol"}));
    }
    SECTION("except without rooms is everyone but") {
        CHECK(visits(a, to({}, {"r2"})) == once({"carol", "dave"}));
        CHECK(visits(a, to({}, {"alice"})) == once({"bob", "carol", "dave"}));
        CHECK(visits(a, to({}, {"r1", "r3"})) == once({"dave"}));
        CHECK(visits(a, to({}, {"alice", "bob", "carol", "dave"})).empty());
    }
    SECTION("unknown rooms select nobody and exclude nobody") {
        CHECK(visits(a, to({"nowhere"})).empty());
        CHECK(visits(a, to({"nowhere", "elsewhere"})).empty());
        CHECK(visits(a, to({"nowhere", "r3"})) == once({"bob", "carol"}));
        CHECK(visits(a, to({"r1"}, {"nowhere"})) == once({"alice"}));
        CHECK(visits(a, to({}, {"nowhere"})) == once({"alice", "bob", "carol", "dave"}));
    }
    SECTION("flags do not change who is selected") {
        auto opt = to({"r2", "r3"}, {"carol"});
        opt.is_volatile = true;
        opt.local = true;
        opt.compress = false;
        CHECK(visits(a, opt) == once({"alice", "bob"}));
    }
    SECTION("members that left are no longer selected") {
        a.leave(alice, "r2");
        CHECK(visits(a, to({"r2"})) == once({"bob"}));
        a.leave_all(bob);
        CHECK(visits(a, to({"r2", "r3"})) == once({"carol"}));
        CHECK(visits(a, to({})) == once({"alice", "carol", "dave"}));
    }
    SECTION("an empty adapter selects nobody") {
        adapter::memory empty;
        CHECK(visits(empty, to({})).empty());
        CHECK(visits(empty, to({"r1"})).empty());
        CHECK(visits(empty, to({"r1", "r2"}, {"r3"})).empty());
    }
}

TEST_CASE("adapter: random operations keep both maps consistent with a model",
          "[adapter][property]") {
    constexpr int member_total = 20;
    constexpr int room_total = 10;
    constexpr int steps = 4000;

    adapter::memory a;
    std::vector<std::unique_ptr<test_member>> members;
    for (int i = 0; i < member_total; ++i)
        members.push_back(std::make_unique<test_member>("m" + std::to_string(i)));
    std::vector<std::string> room_names;
    for (int i = 0; i < room_total; ++i)
        room_names.push_back("room" + std::to_string(i));

    using model_t = std::map<std::string, std::set<adapter::member*>>;
    model_t model; // the reference: room -> members, never holding an empty room

    // A second model built only from the hooks: it must agree with the reference too.
    model_t hooked;
    std::set<std::string> live_rooms;
    bool hook_error = false;
    a.hooks().create_room = [&](std::string const& r) {
        hook_error |= !live_rooms.insert(r).second;
    };
    a.hooks().delete_room = [&](std::string const& r) {
        hook_error |= live_rooms.erase(r) != 1 || hooked.count(r) != 0;
    };
    a.hooks().join_room = [&](std::string const& r, adapter::member const& m) {
        hook_error |= live_rooms.count(r) != 1;
        hook_error |= !hooked[r].insert(const_cast<adapter::member*>(&m)).second;
    };
    a.hooks().leave_room = [&](std::string const& r, adapter::member const& m) {
        auto it = hooked.find(r);
        hook_error |= it == hooked.end() || it->second.erase(const_cast<adapter::member*>(&m)) != 1;
        if (it != hooked.end() && it->second.empty())
            hooked.erase(it);
    };

    // The members a broadcast must reach, computed from the model.
    auto const expected_visits = [&](adapter::broadcast_options const& opt) {
        std::set<adapter::member*> selected, excluded;
        for (auto const& r : opt.except)
            if (auto it = model.find(r); it != model.end())
                excluded.insert(it->second.begin(), it->second.end());
        if (opt.rooms.empty()) {
            for (auto const& [r, ms] : model)
                selected.insert(ms.begin(), ms.end());
        } else {
            for (auto const& r : opt.rooms)
                if (auto it = model.find(r); it != model.end())
                    selected.insert(it->second.begin(), it->second.end());
        }
        std::map<std::string, int> out;
        for (auto* m : selected)
            if (!excluded.count(m))
                out[m->id()] = 1;
        return out;
    };

    std::mt19937 rng(20260101u);
    auto const pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };

    for (int step = 0; step < steps; ++step) {
        auto& m = *members[static_cast<std::size_t>(pick(member_total))];
        auto const& room = room_names[static_cast<std::size_t>(pick(room_total))];
        int const op = pick(100);
        std::string what;
        if (op < 50) {
            what = "join " + m.id() + " " + room;
            a.join(m, room);
            model[room].insert(&m);
        } else if (op < 90) {
            what = "leave " + m.id() + " " + room;
            a.leave(m, room);
            if (auto it = model.find(room); it != model.end()) {
                it->second.erase(&m);
                if (it->second.empty())
                    model.erase(it);
            }
        } else {
            what = "leave_all " + m.id();
            a.leave_all(m);
            for (auto it = model.begin(); it != model.end();) {
                it->second.erase(&m);
                it = it->second.empty() ? model.erase(it) : std::next(it);
            }
        }
        INFO("step " << step << ": " << what);

        // rooms -> members
        REQUIRE(a.room_count() == model.size());
        for (auto const& r : room_names) {
            auto const it = model.find(r);
            REQUIRE(a.has_room(r) == (it != model.end()));
            REQUIRE(a.room_size(r) == (it == model.end() ? 0 : it->second.size()));
        }
        std::size_t rooms_seen = 0;
        bool empty_room = false;
        a.for_each_room([&](std::string const& r, std::size_t n) {
            ++rooms_seen;
            empty_room |= n == 0;
            auto const it = model.find(r);
            empty_room |= it == model.end() || it->second.size() != n;
        });
        REQUIRE(rooms_seen == model.size());
        REQUIRE_FALSE(empty_room);

        // members -> rooms
        std::size_t in_some_room = 0;
        for (auto const& mp : members) {
            std::set<std::string> want;
            for (auto const& [r, ms] : model)
                if (ms.count(mp.get()))
                    want.insert(r);
            auto const got = rooms_of(a, *mp);
            REQUIRE(got.size() == want.size()); // no duplicates
            REQUIRE(std::set<std::string>(got.begin(), got.end()) == want);
            in_some_room += want.empty() ? 0 : 1;
        }
        REQUIRE(a.member_count() == in_some_room);

        // hooks
        REQUIRE_FALSE(hook_error);
        REQUIRE(hooked == model);
        REQUIRE(live_rooms.size() == model.size());

        // A random broadcast: up to 3 rooms, up to 2 except rooms (names may repeat or be
        // rooms that do not exist right now).
        adapter::broadcast_options opt;
        for (int n = pick(4); n > 0; --n)
            opt.rooms.push_back(room_names[static_cast<std::size_t>(pick(room_total))]);
        for (int n = pick(3); n > 0; --n)
            opt.except.push_back(room_names[static_cast<std::size_t>(pick(room_total))]);
        CAPTURE(opt.rooms, opt.except);
        REQUIRE(visits(a, opt) == expected_visits(opt));
    }

    for (auto const& mp : members)
        a.leave_all(*mp);
    CHECK(a.room_count() == 0);
    CHECK(a.member_count() == 0);
    CHECK(live_rooms.empty());
    CHECK(hooked.empty());
}

TEST_CASE("adapter: a room's member set holds each member once as it grows and shrinks",
          "[adapter]") {
    // One member inline, then a vector, then past small_max a hash set; and back down.
    std::vector<std::unique_ptr<test_member>> ms;
    for (int i = 0; i < 40; ++i)
        ms.push_back(std::make_unique<test_member>("m" + std::to_string(i)));
    adapter::detail::member_set set;
    std::set<adapter::member*> model;
    auto const same = [&] {
        std::multiset<adapter::member*> seen;
        set.for_each([&](adapter::member* m) { seen.insert(m); });
        if (set.size() != model.size() || set.empty() != model.empty())
            return false;
        for (auto const& m : ms)
            if (set.contains(m.get()) != model.contains(m.get()))
                return false;
        return seen == std::multiset<adapter::member*>(model.begin(), model.end());
    };
    REQUIRE(same());
    CHECK_FALSE(set.contains(nullptr));
    CHECK_FALSE(set.erase(ms[0].get()));
    std::mt19937 rng(7);
    for (std::size_t const n : {1u, 2u, 16u, 17u, 40u}) {
        for (std::size_t i = 0; i < n; ++i) {
            CHECK(set.insert(ms[i].get()) == model.insert(ms[i].get()).second);
            CHECK_FALSE(set.insert(ms[i].get())); // twice is a no-op
            REQUIRE(same());
        }
        std::vector<std::size_t> order(n);
        for (std::size_t i = 0; i < n; ++i)
            order[i] = i;
        std::shuffle(order.begin(), order.end(), rng);
        for (auto const i : order) {
            CHECK(set.erase(ms[i].get()));
            model.erase(ms[i].get());
            CHECK_FALSE(set.erase(ms[i].get()));
            REQUIRE(same());
            if (model.size() == 1) { // down to one member in the vector or hash form: grow again
                for (std::size_t j = 0; j < n; ++j)
                    if (set.insert(ms[j].get()))
                        model.insert(ms[j].get());
                REQUIRE(same());
                for (std::size_t j = 0; j < n; ++j)
                    if (j != order.back() && set.erase(ms[j].get()))
                        model.erase(ms[j].get());
                REQUIRE(same());
            }
        }
    }
}
