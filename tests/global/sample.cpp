// A C++ program for the malloc adapter's compiler run: templates, the
// standard containers, iostreams and regex make g++ allocate a lot.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <numeric>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <unordered_map>
#include <vector>

template <typename T, int N> struct Unroll {
    static T sum(const std::vector<T> &v) { return v[N % v.size()] + Unroll<T, N - 1>::sum(v); }
};
template <typename T> struct Unroll<T, 0> {
    static T sum(const std::vector<T> &v) { return v[0]; }
};

struct Shape {
    virtual ~Shape() = default;
    virtual double area() const = 0;
};
struct Square : Shape {
    double s;
    explicit Square(double side) : s(side) {}
    double area() const override { return s * s; }
};
struct Circle : Shape {
    double r;
    explicit Circle(double radius) : r(radius) {}
    double area() const override { return 3.0 * r * r; }
};

int main()
{
    std::vector<long> v(1000);
    std::iota(v.begin(), v.end(), 1);
    std::map<std::string, long> m;
    std::unordered_map<long, std::string> u;
    for (long i : v) {
        m["key" + std::to_string(i % 97)] += i;
        u[i] = std::to_string(i * i);
    }
    std::set<std::string> words;
    std::istringstream in("the quick brown fox jumps over the lazy dog again and again");
    for (std::string w; in >> w;) words.insert(w);
    std::regex re("(\\w+)o(\\w*)");
    std::string joined;
    for (const auto &w : words)
        if (std::regex_match(w, re)) joined += w + ",";
    std::vector<std::unique_ptr<Shape>> shapes;
    for (int i = 1; i <= 10; i++) {
        if (i % 2)
            shapes.push_back(std::make_unique<Square>(i));
        else
            shapes.push_back(std::make_unique<Circle>(i));
    }
    double area = 0;
    for (const auto &s : shapes) area += s->area();
    std::sort(v.begin(), v.end(), [](long a, long b) { return a % 13 < b % 13 || (a % 13 == b % 13 && a < b); });
    std::cout << m.size() << " " << u.size() << " " << words.size() << " " << joined << " " << area << " "
              << Unroll<long, 200>::sum(v) << " " << v[0] << "\n";
    return 0;
}
